# polyhost_add_plugin_test(<name>
#                          SOURCES <file>...
#                          PLUGIN <plugin target>
#                          [LINK_LIBRARIES <lib>...]
#                          [POLYHOST_EXECUTABLE <path or generator expression>]
#                          [WORKING_DIRECTORY <dir>]
#                          [TEST_NAME <ctest name>]
#                          [NO_MAIN])
#
# Builds a Catch2 test executable <name> for a plugin built with
# polyhost_add_plugin() and registers it with add_test(). The test includes
# <polyhost/sdk/testing.hpp> and calls polyhost::sdk::testing::run_feed(), which
# runs the plugin through `polyhost harness`; in the test's environment:
#
#   POLYHOST_PLUGIN_UNDER_TEST  $<TARGET_FILE:<plugin target>>
#   POLYHOST_EXECUTABLE         the POLYHOST_EXECUTABLE argument, else the cache
#                               variable POLYHOST_EXECUTABLE (by default
#                               find_program(polyhost)); when neither is known it
#                               is left unset, and run_feed() then reads it from
#                               the environment ctest runs in, or PATH
#
# Catch2 is optional and found by the caller: find_package(Catch2) before this
# call (v2 or v3). Without a Catch2::Catch2 target the test is skipped with a
# status message. Catch2::Catch2WithMain provides main() when it exists (with
# Catch2 2.13+ and 3.x); NO_MAIN links Catch2::Catch2 only, for a test that
# defines its own main(). The test runs in WORKING_DIRECTORY (default: the
# current source directory), so run_feed("testdata/feed.jsonl") finds files next
# to the test's CMakeLists.txt. Call enable_testing() (or include(CTest)) in the
# top-level CMakeLists.txt so ctest sees the test.
include_guard(GLOBAL)

function(polyhost_add_plugin_test name)
  cmake_parse_arguments(PARSE_ARGV 1 PHT "NO_MAIN" "PLUGIN;POLYHOST_EXECUTABLE;WORKING_DIRECTORY;TEST_NAME"
                        "SOURCES;LINK_LIBRARIES")
  if(PHT_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "polyhost_add_plugin_test(${name}): unexpected arguments: ${PHT_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT PHT_SOURCES)
    message(FATAL_ERROR "polyhost_add_plugin_test(${name}): SOURCES is required")
  endif()
  if(NOT PHT_PLUGIN)
    message(FATAL_ERROR "polyhost_add_plugin_test(${name}): PLUGIN <target> is required")
  endif()
  if(NOT TARGET ${PHT_PLUGIN})
    message(FATAL_ERROR "polyhost_add_plugin_test(${name}): PLUGIN ${PHT_PLUGIN} is not a target "
                        "(define it with polyhost_add_plugin() first)")
  endif()
  if(NOT TARGET Catch2::Catch2)
    message(STATUS "polyhost_add_plugin_test(${name}): Catch2 not found (find_package(Catch2) first); test skipped")
    return()
  endif()

  set(_exe "${PHT_POLYHOST_EXECUTABLE}")
  if(NOT _exe)
    # A cache variable: -DPOLYHOST_EXECUTABLE=/path/to/polyhost wins over the search.
    find_program(POLYHOST_EXECUTABLE polyhost
                 DOC "The polyhost executable that polyhost_add_plugin_test() tests run")
    set(_exe "${POLYHOST_EXECUTABLE}")
  endif()
  if(NOT _exe)
    message(STATUS "polyhost_add_plugin_test(${name}): no polyhost executable found; set POLYHOST_EXECUTABLE "
                   "(cache or environment) or put polyhost on PATH before running the test")
  endif()

  add_executable(${name} ${PHT_SOURCES})
  if(PHT_NO_MAIN OR NOT TARGET Catch2::Catch2WithMain)
    set(_catch Catch2::Catch2)
  else()
    set(_catch Catch2::Catch2WithMain)
  endif()
  target_link_libraries(${name} PRIVATE polyhost::sdk ${_catch} ${PHT_LINK_LIBRARIES})
  set_target_properties(${name} PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  # Building the test builds the plugin it runs.
  add_dependencies(${name} ${PHT_PLUGIN})

  set(_test_name "${PHT_TEST_NAME}")
  if(NOT _test_name)
    set(_test_name ${name})
  endif()
  set(_cwd "${PHT_WORKING_DIRECTORY}")
  if(NOT _cwd)
    set(_cwd "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  add_test(NAME "${_test_name}" COMMAND ${name} WORKING_DIRECTORY "${_cwd}")
  set(_env "POLYHOST_PLUGIN_UNDER_TEST=$<TARGET_FILE:${PHT_PLUGIN}>")
  if(_exe)
    list(APPEND _env "POLYHOST_EXECUTABLE=${_exe}")
  endif()
  set_tests_properties("${_test_name}" PROPERTIES ENVIRONMENT "${_env}")
endfunction()
