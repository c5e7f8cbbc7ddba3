#![no_main]
//! libFuzzer's entry for [`passway_fuzz::config_file`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| passway_fuzz::config_file::check(data));
