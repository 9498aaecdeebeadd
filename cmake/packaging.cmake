# The Debian package: `cpack -G DEB` in the build directory, after the program is built
# (scripts/build.sh build bulwark). It holds what `cmake --install` installs (the program,
# the libraries, headers and CMake package for embedding, the sample configuration in
# share/bulwark) and, only in the package (component `deb`), the configuration in
# /etc/bulwark as conffiles, the systemd unit, the sysusers.d file of the `bulwark` user,
# the documentation and a manual page. The program is stripped; its debug information is
# in the bulwark-dbgsym .ddeb beside the package.

# Installing and packaging take what is built; they never build every target first (the
# program's build makes everything the package holds).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(BULWARK_DEB_MAINTAINER "Bulwark maintainers <maintainers@bulwark.example.org>"
  CACHE STRING "Maintainer field of the Debian package")
set(deb ${CMAKE_CURRENT_SOURCE_DIR}/packaging/deb)

install(FILES conf/bulwark.toml conf/fleet.toml DESTINATION /etc/bulwark
  COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${deb}/bulwark.service DESTINATION /lib/systemd/system
  COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${deb}/sysusers.conf DESTINATION lib/sysusers.d RENAME bulwark.conf
  COMPONENT deb EXCLUDE_FROM_ALL)
configure_file(${deb}/changelog.in ${CMAKE_CURRENT_BINARY_DIR}/deb/changelog @ONLY)
configure_file(${deb}/bulwark.1 ${CMAKE_CURRENT_BINARY_DIR}/deb/bulwark.1 @ONLY)
execute_process(COMMAND gzip -9nf ${CMAKE_CURRENT_BINARY_DIR}/deb/changelog
                                  ${CMAKE_CURRENT_BINARY_DIR}/deb/bulwark.1)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/deb/bulwark.1.gz DESTINATION share/man/man1
  COMPONENT deb EXCLUDE_FROM_ALL)
file(GLOB BULWARK_DOCS CONFIGURE_DEPENDS docs/*.md)
install(FILES ${deb}/copyright ${CMAKE_CURRENT_BINARY_DIR}/deb/changelog.gz ${BULWARK_DOCS}
  DESTINATION share/doc/bulwark COMPONENT deb EXCLUDE_FROM_ALL)

# The package's static libraries carry no debug information nor compiler notes, as
# Debian's do (dh_strip --strip-debug): they are a tenth of the size. This runs after the
# libraries are installed (the `deb` component is installed second).
install(CODE "
  file(GLOB archives \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/libbulwark_*.a\")
  foreach(archive \${archives})
    execute_process(COMMAND ${CMAKE_STRIP} --strip-debug --remove-section=.comment \${archive}
                    COMMAND_ERROR_IS_FATAL ANY)
  endforeach()" COMPONENT deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bulwark)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Everything `cmake --install` installs, and the package's own files.
set(CPACK_INSTALL_CMAKE_PROJECTS
  "${CMAKE_BINARY_DIR};bulwark;ALL;/" "${CMAKE_BINARY_DIR};bulwark;deb;/")
set(CPACK_PACKAGE_CONTACT "${BULWARK_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${BULWARK_DEB_MAINTAINER}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "failure-containment engine for automated operations")
set(CPACK_PACKAGE_DESCRIPTION
  "Bulwark decides whether and how widely each change proposed by automation
may run (staged authority levels, blast-radius limits), runs it behind
circuit breakers, records every decision and effect in a hash-chained
journal anyone can verify, and rolls back the change that broke things.
This package holds the bulwark program with a hardened systemd unit and its
configuration in /etc/bulwark, and the static libraries, headers and CMake
package for embedding the engine in a host application.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${deb}/conffiles ${deb}/postinst ${deb}/prerm ${deb}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
