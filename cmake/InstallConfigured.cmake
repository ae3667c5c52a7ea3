# musicfs_install_configured(TEMPLATE DESTINATION)
#
# Installs TEMPLATE (NAME.in) as DESTINATION/NAME, configured with @ONLY when it is
# installed rather than when the build is configured. @CMAKE_INSTALL_FULL_BINDIR@ and
# @CMAKE_INSTALL_FULL_SBINDIR@ then name where the programs really land: /usr/bin in
# the .deb (CPack installs with CMAKE_INSTALL_PREFIX=/usr, CPACK_PACKAGING_INSTALL_PREFIX),
# PREFIX/bin for `cmake --install --prefix PREFIX`. Configured at configure time they
# would say /usr/local/bin in the package of a default build.
function(musicfs_install_configured template destination)
  get_filename_component(source ${template} ABSOLUTE)
  get_filename_component(name ${template} NAME_WLE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/install-configured/${name})
  install(CODE "
    set(CMAKE_INSTALL_FULL_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    set(CMAKE_INSTALL_FULL_SBINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}\")
    configure_file(\"${source}\" \"${out}\" @ONLY)
  ")
  install(FILES ${out} DESTINATION ${destination})
endfunction()
