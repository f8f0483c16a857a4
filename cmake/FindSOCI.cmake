# FindSOCI — Debian's libsoci-dev ships headers and libraries but no CMake config.
#
# Defines imported targets:
#   SOCI::core        libsoci_core + headers (/usr/include/soci)
#   SOCI::sqlite3     the SQLite backend (links SQLite::SQLite3)
#   SOCI::postgresql  the PostgreSQL backend (links PostgreSQL::PostgreSQL), when found
# and SOCI_FOUND, SOCI_INCLUDE_DIR, SOCI_VERSION.
include(FindPackageHandleStandardArgs)

find_path(SOCI_INCLUDE_DIR NAMES soci/soci.h)
find_library(SOCI_CORE_LIBRARY NAMES soci_core)
find_library(SOCI_SQLITE3_LIBRARY NAMES soci_sqlite3)
find_library(SOCI_POSTGRESQL_LIBRARY NAMES soci_postgresql)

if(SOCI_INCLUDE_DIR AND EXISTS "${SOCI_INCLUDE_DIR}/soci/version.h")
  file(STRINGS "${SOCI_INCLUDE_DIR}/soci/version.h" _soci_ver REGEX "#define SOCI_LIB_VERSION \"")
  string(REGEX REPLACE ".*\"([0-9_]+)\".*" "\\1" _soci_ver "${_soci_ver}")
  string(REPLACE "_" "." SOCI_VERSION "${_soci_ver}")
endif()

if(SOCI_SQLITE3_LIBRARY)
  find_package(SQLite3 QUIET)
  if(SQLite3_FOUND)
    set(SOCI_sqlite3_FOUND TRUE)
  endif()
endif()
if(SOCI_POSTGRESQL_LIBRARY)
  find_package(PostgreSQL QUIET)
  if(PostgreSQL_FOUND)
    set(SOCI_postgresql_FOUND TRUE)
  endif()
endif()

find_package_handle_standard_args(SOCI
  REQUIRED_VARS SOCI_CORE_LIBRARY SOCI_INCLUDE_DIR
  VERSION_VAR SOCI_VERSION
  HANDLE_COMPONENTS)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core UNKNOWN IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
endif()

if(SOCI_FOUND AND SOCI_sqlite3_FOUND AND NOT TARGET SOCI::sqlite3)
  add_library(SOCI::sqlite3 UNKNOWN IMPORTED)
  set_target_properties(SOCI::sqlite3 PROPERTIES
    IMPORTED_LOCATION "${SOCI_SQLITE3_LIBRARY}"
    INTERFACE_LINK_LIBRARIES "SOCI::core;SQLite::SQLite3")
endif()

if(SOCI_FOUND AND SOCI_postgresql_FOUND AND NOT TARGET SOCI::postgresql)
  add_library(SOCI::postgresql UNKNOWN IMPORTED)
  set_target_properties(SOCI::postgresql PROPERTIES
    IMPORTED_LOCATION "${SOCI_POSTGRESQL_LIBRARY}"
    INTERFACE_LINK_LIBRARIES "SOCI::core;PostgreSQL::PostgreSQL")
endif()

mark_as_advanced(SOCI_INCLUDE_DIR SOCI_CORE_LIBRARY SOCI_SQLITE3_LIBRARY SOCI_POSTGRESQL_LIBRARY)
