# Third-party dependencies. Debian ships no CMake package for CAF, so it is found with
# find_path/find_library and wrapped in IMPORTED targets (their include directories are
# treated as SYSTEM, so CAF's own warnings never reach our -Werror).
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(PkgConfig REQUIRED)

find_path(CAF_INCLUDE_DIR NAMES caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY NAMES caf_core REQUIRED)
find_library(CAF_IO_LIBRARY NAMES caf_io REQUIRED)
find_library(CAF_OPENSSL_LIBRARY NAMES caf_openssl REQUIRED)

if(NOT TARGET caf::core)
  add_library(caf::core SHARED IMPORTED)
  set_target_properties(caf::core PROPERTIES
    IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(caf::io SHARED IMPORTED)
  set_target_properties(caf::io PROPERTIES
    IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
    INTERFACE_LINK_LIBRARIES caf::core)
  add_library(caf::openssl SHARED IMPORTED)
  set_target_properties(caf::openssl PROPERTIES
    IMPORTED_LOCATION "${CAF_OPENSSL_LIBRARY}"
    INTERFACE_LINK_LIBRARIES "caf::io;OpenSSL::SSL;OpenSSL::Crypto")
endif()

pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CURL REQUIRED) # the etcd gateway of bulwark::cluster, the http effectors
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
