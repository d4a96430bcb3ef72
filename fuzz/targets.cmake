# The fuzz targets and the libraries each needs: fuzz/<name>_fuzz.cpp links TS_FUZZ_LIBS_<name>.
# Included by fuzz/CMakeLists.txt (libFuzzer builds) and tests/CMakeLists.txt (the replays).
set(TS_FUZZ_LIBS_response_parser ts_http)
set(TS_FUZZ_LIBS_text_values ts_core ts_http ts_incidents)
set(TS_FUZZ_LIBS_hdr ts_core)
set(TS_FUZZ_LIBS_webhook ts_incidents)
set(TS_FUZZ_LIBS_otlp_response ts_telemetry)
set(TS_FUZZ_LIBS_exposition ts_telemetry)
set(TS_FUZZ_LIBS_yaml_files ts_scenarios ts_monitors ts_incidents)
set(TS_FUZZ_LIBS_report_merge ts_load Boost::json)
set(TS_FUZZ_LIBS_request_path ts_control Boost::json OpenSSL::Crypto)
file(GLOB TS_FUZZ_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/fuzz/*_fuzz.cpp)
