# What `cmake --install` puts where (GNU directories under CMAKE_INSTALL_PREFIX), and the Debian
# packages `./run.sh package` makes of it with CPack. Three install components:
#   runtime  the shared libraries: libcryptcom (the C API) always; libcryptcom-core and
#            libcryptcom-zmq when built with -DBUILD_SHARED_LIBS=ON
#   dev      headers, static libraries or the .so links, the CMake package (find_package), the
#            pkg-config files
#   tools    the `cryptcom` program, and the example and benchmark programs it runs
#            (libexec/cryptcom/)
include(CMakePackageConfigHelpers)

set(cryptcom_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/cryptcom)
set(cryptcom_libraries cryptcom_core)
foreach(target cryptcom_zmq cryptcom_c)
  if(TARGET ${target})
    list(APPEND cryptcom_libraries ${target})
  endif()
endforeach()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/middleware/include/cryptcom
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.hpp")
if(TARGET cryptcom_zmq)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/transports/zmq/include/cryptcom
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.hpp")
endif()
if(TARGET cryptcom_c)
  install(FILES ${PROJECT_SOURCE_DIR}/bindings/c/include/cryptcom.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
endif()
install(TARGETS ${cryptcom_libraries} EXPORT cryptcomTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

# The CMake package: find_package(cryptcom 0.2) accepts any 0.2.x (before 1.0 a minor release may
# break compatibility).
install(EXPORT cryptcomTargets NAMESPACE cryptcom:: DESTINATION ${cryptcom_cmake_dir}
        COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/package/cryptcomConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/package/cryptcomConfig.cmake
                              INSTALL_DESTINATION ${cryptcom_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/cryptcomConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/cryptcomConfig.cmake
              ${PROJECT_BINARY_DIR}/package/cryptcomConfigVersion.cmake
        DESTINATION ${cryptcom_cmake_dir} COMPONENT dev)

# pkg-config: cryptcom-core, cryptcom-zmq (C++) and cryptcom (the C API). A static library's
# dependencies go in Requires/Libs so that a plain `pkg-config --libs` links; a shared one's in
# Requires.private.
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
if(BUILD_SHARED_LIBS)
  set(PC_SODIUM_FIELD Requires.private)
  set(PC_STATIC_THREADS "")
else()
  set(PC_SODIUM_FIELD Requires)
  set(PC_STATIC_THREADS " -pthread")
endif()
set(pc_files cryptcom-core)
if(TARGET cryptcom_zmq)
  list(APPEND pc_files cryptcom-zmq)
endif()
if(TARGET cryptcom_c)
  list(APPEND pc_files cryptcom)
endif()
foreach(pc ${pc_files})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/package/${pc}.pc.in
                 ${PROJECT_BINARY_DIR}/package/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/package/${pc}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endforeach()

if(TARGET cryptcom_tool)
  install(TARGETS cryptcom_tool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  set(tool_programs echo_server echo_client)
  if(TARGET cryptcom_bench)
    list(APPEND tool_programs cryptcom_bench)
  endif()
  install(TARGETS ${tool_programs} RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/cryptcom
          COMPONENT tools)
endif()

# Debian packages, one per component (./run.sh package builds with -DBUILD_SHARED_LIBS=ON).
# Depends: the Debian names of what the binaries link (dpkg-shlibdeps adds libc, libstdc++, ...).
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(runtime_package libcryptcom${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(runtime_package libcryptcom${PROJECT_VERSION_MAJOR})
endif()
set(CPACK_PACKAGE_NAME cryptcom)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "cryptcom developers <cryptcom@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "one-time-key encryption for ZeroMQ applications")
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Our own shared libraries, for dpkg-shlibdeps looking at the tools (their dependency on the
# runtime package is stated below).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
    ${PROJECT_BINARY_DIR}/middleware ${PROJECT_BINARY_DIR}/transports/zmq
    ${PROJECT_BINARY_DIR}/bindings/c)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${runtime_package})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "libzmq5 (>= 4.3), libsodium23 (>= 1.0.18)")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "cryptcom shared libraries\n Every ZeroMQ message sealed (HPKE, RFC 9180) to a one-time X25519 key that\n the receiver destroys after reading it: libcryptcom (the C API), libcryptcom-core\n and libcryptcom-zmq (C++20).")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libcryptcom-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "${runtime_package} (= ${PROJECT_VERSION}), libzmq3-dev (>= 4.3), cppzmq-dev, libsodium-dev (>= 1.0.18), pkgconf | pkg-config")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "cryptcom development files\n Headers (cryptcom.h, cryptcom/*.hpp), the CMake package (find_package(cryptcom))\n and pkg-config files (cryptcom, cryptcom-core, cryptcom-zmq).")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME cryptcom-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "${runtime_package} (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
    "cryptcom command-line tool\n cryptcom inspect (what a wiretap sees of cryptcom traffic), keygen (CurveZMQ\n certificates in czmq's format), echo-server, echo-client and bench.")
include(CPack)
