#![no_main]
//! libFuzzer's entry for [`passway_fuzz::jws`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| passway_fuzz::jws::check(data));
