#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipgate_oauth_fuzz::paging(data));
