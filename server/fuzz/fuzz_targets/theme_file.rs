#![no_main]
//! libFuzzer's entry for [`passway_fuzz::theme_file`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| passway_fuzz::theme_file::check(data));
