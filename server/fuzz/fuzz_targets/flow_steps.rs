#![no_main]
//! libFuzzer's entry for [`passway_fuzz::flow_steps`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| passway_fuzz::flow_steps::check(data));
