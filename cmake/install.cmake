# Installation layout and the Debian package (cpack -G DEB in the build dir).
# With --prefix /usr: /usr/bin/{sealbridge,sealctl}, /usr/lib/systemd/system/,
# /etc/sealbridge/sealbridge.ini, /usr/share/sealbridge/schemas/ and
# /usr/share/doc/sealbridge/examples/ (broker configuration).
# The binaries' install(TARGETS) rules are in the top-level CMakeLists.txt.

# Not CMAKE_INSTALL_LIBDIR: that is lib/<multiarch> on Debian, and systemd
# looks only in lib/systemd/system.
set(SB_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
  "Where the systemd unit goes, relative to the install prefix or absolute")
set(SB_CONFDIR "" CACHE PATH
  "Absolute settings directory; empty: /etc/sealbridge for the /usr prefix, else PREFIX/etc/sealbridge")
configure_file(${CMAKE_CURRENT_LIST_DIR}/install_prefixed.cmake.in
  ${CMAKE_BINARY_DIR}/install/install_prefixed.cmake @ONLY)
install(SCRIPT ${CMAKE_BINARY_DIR}/install/install_prefixed.cmake)

file(GLOB SB_SCHEMAS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/schemas/*.schema.json)
install(FILES ${SB_SCHEMAS} DESTINATION ${CMAKE_INSTALL_DATADIR}/sealbridge/schemas)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/mosquitto.conf ${CMAKE_SOURCE_DIR}/deploy/acl
  ${CMAKE_SOURCE_DIR}/deploy/passwords.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
# The web console: the static page, and MQTT.js when deploy/console/vendor.sh
# has vendored it (scripts/run.sh and scripts/test.sh do; a package build
# should run it first, or the page has no MQTT client).
install(FILES ${CMAKE_SOURCE_DIR}/deploy/console/index.html ${CMAKE_SOURCE_DIR}/deploy/console/app.js
  ${CMAKE_SOURCE_DIR}/deploy/console/style.css DESTINATION ${CMAKE_INSTALL_DATADIR}/sealbridge/console)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/deploy/console/vendor/ OPTIONAL
  DESTINATION ${CMAKE_INSTALL_DATADIR}/sealbridge/console/vendor)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/console/mosquitto-console.conf
  ${CMAKE_SOURCE_DIR}/deploy/websockify-console.service DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# ---- CPack: Debian package
set(CPACK_PACKAGE_NAME sealbridge)
set(CPACK_PACKAGE_VENDOR "The sealbridge authors")
set(CPACK_PACKAGE_CONTACT "The sealbridge authors <sealbridge@localhost>" CACHE STRING
  "Maintainer field of the .deb")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "home-quarantine door-seal monitor beside a Mosquitto broker")
set(CPACK_PACKAGE_DESCRIPTION
  "sealbridge watches households in home quarantine through door-contact seals
publishing over MQTT, keeps the roster in SQLite and publishes alerts that
escalate from community to street to district.
The service is installed but neither enabled nor started.")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
# The package installs under /usr with its settings in /etc: install with
# DESTDIR (prefix /usr) so that install_prefixed.cmake sees the real prefix.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
# Added to what dpkg-shlibdeps finds: postinst needs adduser.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto-clients")

# dpkg keeps a local edit of a conffile across upgrades; it must be listed.
if(SB_CONFDIR)
  file(WRITE ${CMAKE_BINARY_DIR}/install/conffiles "${SB_CONFDIR}/sealbridge.ini\n")
else()
  file(WRITE ${CMAKE_BINARY_DIR}/install/conffiles "/etc/sealbridge/sealbridge.ini\n")
endif()
set(SB_DEB_SCRIPTS)
foreach(script postinst prerm postrm)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/${script} ${CMAKE_BINARY_DIR}/install/${script}
    @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
  list(APPEND SB_DEB_SCRIPTS ${CMAKE_BINARY_DIR}/install/${script})
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/install/conffiles ${SB_DEB_SCRIPTS})
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
