# `cpack -G DEB` in a build tree makes build/musicfs_VERSION_ARCH.deb from the same
# install rules `cmake --install` runs (tests/package/deb checks both).
set(MUSICFS_DEB_MAINTAINER
  "musicfs maintainers <maintainers@users.noreply.b-seed-bace6e00.example>"
  CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME musicfs)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${MUSICFS_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "read-only FUSE filesystem federating music libraries")
# CPack indents these lines and turns the empty one into " ." for the control file.
# No double quotes in it: CPack writes it into CPackConfig.cmake unescaped.
set(CPACK_PACKAGE_DESCRIPTION
"musicfs mounts one read-only tree that federates several music origins:
local directories, mounted NFS or SMB shares, HTTP servers, S3 buckets and
SFTP servers. Each file is served from the best origin that holds it, reads
fail over to another copy when an origin breaks, and a content cache keeps
playing when every origin is gone.

One program, musicfsctl, is both the command-line client and (run as
'musicfsctl daemon') the FUSE daemon it talks to over a Unix socket.")

# Paths in the package are under /usr whatever CMAKE_INSTALL_PREFIX the build uses
# for `cmake --install`.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MUSICFS_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps (dpkg-dev) computes the library packages from what the binaries
# link; fuse3 is added by hand because mounting runs its fusermount3, not a library.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3")
if(CMAKE_PROJECT_HOMEPAGE_URL)
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${CMAKE_PROJECT_HOMEPAGE_URL}")
endif()

include(CPack)
