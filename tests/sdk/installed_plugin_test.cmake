# Run by ctest (see CMakeLists.txt): the SDK's test helpers as a plugin author
# gets them. Installs the SDK component of this build into a fresh prefix,
# configures examples/plugins/minimal against that prefix only (with Catch2 and
# -DPOLYHOST_EXECUTABLE=<the built polyhost>), builds it, and runs its
# polyhost_add_plugin_test() test (minimal_test.cc, <polyhost/sdk/testing.hpp>)
# with ctest. Any failing step fails the test.
cmake_minimum_required(VERSION 3.25)
foreach(var POLYHOST_BUILD_DIR EXAMPLE_DIR WORK_DIR POLYHOST GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "installed_plugin_test.cmake needs -D${var}=...")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})

message(STATUS "1/4 cmake --install ${POLYHOST_BUILD_DIR} --component sdk --prefix ${prefix}")
execute_process(COMMAND ${CMAKE_COMMAND} --install ${POLYHOST_BUILD_DIR} --component sdk --prefix ${prefix}
                COMMAND_ERROR_IS_FATAL ANY)
file(GLOB_RECURSE helper ${prefix}/*/polyhost_add_plugin_test.cmake)
if(NOT helper)
  message(FATAL_ERROR "the SDK install lacks polyhost_add_plugin_test.cmake")
endif()
if(NOT EXISTS ${prefix}/include/polyhost/sdk/testing.hpp)
  message(FATAL_ERROR "the SDK install lacks include/polyhost/sdk/testing.hpp")
endif()

message(STATUS "2/4 configure ${EXAMPLE_DIR} against ${prefix}, testing with ${POLYHOST}")
set(compiler_arg "")
if(CXX_COMPILER)
  set(compiler_arg -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${build} -G ${GENERATOR}
                        -DCMAKE_BUILD_TYPE=Release ${compiler_arg}
                        -DCMAKE_PREFIX_PATH=${prefix}
                        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
                        -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
                        -DPOLYHOST_EXECUTABLE=${POLYHOST}
                COMMAND_ERROR_IS_FATAL ANY)

message(STATUS "3/4 build")
execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} COMMAND_ERROR_IS_FATAL ANY)
if(NOT EXISTS ${build}/minimal_test)
  message(FATAL_ERROR "the example did not build its test ${build}/minimal_test (is Catch2 installed?)")
endif()

message(STATUS "4/4 ctest in ${build}")
# --no-tests=error: a test that was silently skipped is a failure here.
execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${build} --output-on-failure --no-tests=error
                COMMAND_ERROR_IS_FATAL ANY)
