#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipgate_oauth_fuzz::config_url(data));
