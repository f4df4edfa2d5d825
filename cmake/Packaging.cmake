# Install layout (FHS) and the Debian package (CPack). `make deb` configures a Release tree with
# CMAKE_INSTALL_PREFIX=/usr and runs cpack there; `cmake --install` works with any prefix.
include(GNUInstallDirs)

install(TARGETS f0mesh RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The dashboard, when it has been built (make web): PREFIX/share/f0mesh/web, where the binary
# looks for it (src/cli/web_dir.hpp).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/web/dist/ DESTINATION ${CMAKE_INSTALL_DATADIR}/f0mesh/web
        OPTIONAL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/worker.ini.example
        DESTINATION ${CMAKE_INSTALL_DATADIR}/f0mesh)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/PROTOCOL.md
              ${PROJECT_SOURCE_DIR}/docs/SECURITY.md ${PROJECT_SOURCE_DIR}/docs/ARCHITECTURE.md
              ${PROJECT_SOURCE_DIR}/docs/openapi.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/docs/OPERATIONS.md DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)
# systemd looks in PREFIX/lib/systemd/system for /usr (Debian 12 has a merged /usr).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/f0mesh.service
        DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME f0mesh)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "f0mesh developers <dev@f0mesh.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "peer-to-peer WebRTC mesh worker")
set(CPACK_PACKAGE_DESCRIPTION
    "f0mesh runs one worker per peer: Ed25519-signed signaling, WebRTC DataChannels (ICE, DTLS, SCTP), live QoS, trust-weighted gossip, CRDT replication and an operations dashboard.")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Dependencies from the shared libraries actually linked (dpkg-shlibdeps), plus what the
# maintainer scripts run.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
