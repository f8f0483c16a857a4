# Run by ctest (see CMakeLists.txt): install the SDK, build the example against
# the installed copy only, load the result. Any failing step fails the test.
cmake_minimum_required(VERSION 3.25)
foreach(var POLYHOST_BUILD_DIR EXAMPLE_DIR WORK_DIR LOADER GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "consumer_test.cmake needs -D${var}=...")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})

message(STATUS "1/4 cmake --install ${POLYHOST_BUILD_DIR} --component sdk --prefix ${prefix}")
execute_process(COMMAND ${CMAKE_COMMAND} --install ${POLYHOST_BUILD_DIR} --component sdk --prefix ${prefix}
                COMMAND_ERROR_IS_FATAL ANY)
file(GLOB_RECURSE config_file ${prefix}/*/polyhost_sdkConfig.cmake)
foreach(f include/polyhost/abi/polyhost.h include/polyhost/abi/entry.h include/polyhost/sdk/sdk.hpp)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the SDK install lacks ${f}")
  endif()
endforeach()
if(NOT config_file)
  message(FATAL_ERROR "the SDK install lacks polyhost_sdkConfig.cmake")
endif()

message(STATUS "2/4 configure ${EXAMPLE_DIR} against ${prefix}")
set(compiler_arg "")
if(CXX_COMPILER)
  set(compiler_arg -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${build} -G ${GENERATOR}
                        -DCMAKE_BUILD_TYPE=Release ${compiler_arg}
                        -DCMAKE_PREFIX_PATH=${prefix}
                        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
                        -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
                COMMAND_ERROR_IS_FATAL ANY)
# It must have used the installed copy, not a source tree or another install.
file(STRINGS ${build}/CMakeCache.txt sdk_dir REGEX "^polyhost_sdk_DIR:")
string(REGEX REPLACE "^polyhost_sdk_DIR:[A-Z]+=" "" sdk_dir "${sdk_dir}")
file(REAL_PATH "${sdk_dir}" sdk_dir)
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${sdk_dir}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "find_package(polyhost_sdk) used ${sdk_dir}, not the fresh install in ${prefix}")
endif()

message(STATUS "3/4 build")
execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} COMMAND_ERROR_IS_FATAL ANY)
if(NOT EXISTS ${build}/minimal.so)
  message(FATAL_ERROR "the example did not produce ${build}/minimal.so")
endif()

message(STATUS "4/4 load ${build}/minimal.so")
execute_process(COMMAND ${LOADER} ${build}/minimal.so COMMAND_ERROR_IS_FATAL ANY)
