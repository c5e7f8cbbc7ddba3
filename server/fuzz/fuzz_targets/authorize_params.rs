#![no_main]
//! libFuzzer's entry for [`passway_fuzz::authorize_params`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| passway_fuzz::authorize_params::check(data));
