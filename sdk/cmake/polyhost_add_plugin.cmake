# polyhost_add_plugin(<name>
#                     SOURCES <file>...
#                     [LINK_LIBRARIES <lib>...]
#                     [OUTPUT_DIRECTORY <dir>]
#                     [OUTPUT_NAME <file name without .so>])
#
# Builds a polyhost strategy plugin: a MODULE library (dlopen-only, never linked
# against) named <name>.so. The usual "lib" prefix is dropped, so the host finds
# it as <dir>/<name>.so when [plugins] dirs lists <dir> (lib<name>.so and
# <name>/<name>.so are found too).
#
# Sources may be C or C++; C++ is compiled as C++20 (the SDK's .hpp layer needs
# it). Everything is compiled with hidden visibility: the only exported symbol is
# polyhost_plugin_entry, which POLYHOST_PLUGIN(...) (C++) or
# POLYHOST_PLUGIN_EXPORT (C) marks with default visibility. Plugins must not link
# against the host: everything they need comes through the ph_host table.
include_guard(GLOBAL)

function(polyhost_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 PHP "" "OUTPUT_DIRECTORY;OUTPUT_NAME" "SOURCES;LINK_LIBRARIES")
  if(PHP_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "polyhost_add_plugin(${name}): unexpected arguments: ${PHP_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT PHP_SOURCES)
    message(FATAL_ERROR "polyhost_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${PHP_SOURCES})
  target_link_libraries(${name} PRIVATE polyhost::sdk ${PHP_LINK_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(PHP_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PHP_OUTPUT_DIRECTORY}")
  endif()
  if(PHP_OUTPUT_NAME)
    set_target_properties(${name} PROPERTIES OUTPUT_NAME "${PHP_OUTPUT_NAME}")
  endif()
endfunction()
