# Instrumentation for libFuzzer builds. Include this from the top-level CMakeLists.txt BEFORE any
# add_subdirectory() of library code:
#
#   include(fuzz/fuzzing.cmake)
#
# With -DPERIMETER_FUZZ=ON and clang, every target of the build is compiled with coverage
# instrumentation (fuzzer-no-link) plus AddressSanitizer and UndefinedBehaviorSanitizer, so the
# fuzzer sees coverage inside the libraries it exercises, not only in the fuzz target's own file.
# fuzz/CMakeLists.txt then links the libFuzzer runtime into the fuzz binaries only.
option(PERIMETER_FUZZ "Build libFuzzer binaries (requires clang); instruments the whole build" OFF)

if(PERIMETER_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PERIMETER_FUZZ=ON requires clang (configure with -DCMAKE_CXX_COMPILER=clang++)")
  endif()
  set(PERIMETER_FUZZ_INSTRUMENTED ON)
  # Libraries get coverage and ASan. UBSan is left to the fuzz targets' own sources: clang 14
  # fails on coroutine code compiled with fuzzer-no-link and undefined together ("Cannot
  # represent a difference across sections").
  add_compile_options(-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
