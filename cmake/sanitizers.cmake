# Sanitizer and fuzzing builds (docs/reliability.md). Each one is its own build folder:
#   -DDOPT_SANITIZE=address,undefined   build-asan: ASan + UBSan, any report is fatal
#   -DDOPT_SANITIZE=thread              build-tsan: ThreadSanitizer
#   -DDOPT_FUZZ=ON (clang)              build-fuzz: libFuzzer targets in fuzz/ (+ ASan + UBSan)
set(DOPT_SANITIZE "" CACHE STRING "Sanitizers for the whole build: address,undefined | thread | empty")
option(DOPT_FUZZ "Build the libFuzzer targets in fuzz/ (clang only)" OFF)

if(DOPT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DOPT_FUZZ=ON needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  if(NOT DOPT_SANITIZE)
    set(DOPT_SANITIZE "address,undefined")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(DOPT_SANITIZE)
  add_compile_options(-fsanitize=${DOPT_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${DOPT_SANITIZE} -fno-sanitize-recover=all)
endif()

# clang: dopt links OpenMP only for oneDNN's runtime, which on Debian is GNU OpenMP, so point
# FindOpenMP at gcc's libgomp (omp.h comes from libomp-14-dev: only omp_set_num_threads is used).
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  execute_process(COMMAND gcc -print-file-name=libgomp.so OUTPUT_VARIABLE _dopt_gomp OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(EXISTS "${_dopt_gomp}")
    set(OpenMP_CXX_FLAGS "-fopenmp=libgomp" CACHE STRING "")
    set(OpenMP_CXX_LIB_NAMES "gomp" CACHE STRING "")
    set(OpenMP_gomp_LIBRARY "${_dopt_gomp}" CACHE FILEPATH "")
  endif()
endif()

# The tests' own files at -O1 under sanitizers: gtest-heavy files are slow to compile with
# instrumentation at -O2, and -O1 is what the sanitizers recommend anyway (dopt's code keeps
# the build type's flags, so the fuzz targets and the tests share its objects).
if(DOPT_SANITIZE)
  file(GLOB_RECURSE _dopt_test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/unit/*.cc
       ${CMAKE_CURRENT_SOURCE_DIR}/tests/ops/*.cc)
  set_source_files_properties(${_dopt_test_sources} PROPERTIES COMPILE_OPTIONS "-O1")
endif()
# TSan: -O1 everywhere (faster to build, and what TSan's documentation uses).
if(DOPT_SANITIZE STREQUAL "thread")
  add_compile_options(-O1)
endif()
