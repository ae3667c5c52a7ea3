# One static library per lib/ folder, musicfs_<folder>, whose dependencies are the
# folders it declares (lib/CMakeLists.txt). The build, not a reviewer, then catches an
# include that points the wrong way:
#
# - A folder's headers are reachable only through its own include root,
#   <build>/lib_include/<folder>, which holds one symlink <folder> -> lib/<folder>.
#   A target sees that root only by linking musicfs_<folder> (directly or through a
#   folder it links), so `#include "federation/x.h"` in lib/state does not resolve.
# - So that the failure says why, every lib header also has a stub of the same name in
#   <build>/lib_include/unreachable, searched last of all (-idirafter): a header the
#   include roots do not reach resolves to the stub, whose #error names the target to
#   link. The compiler's "In file included from" lines name the offending include.
#
# Sources are the folder's *.cpp (CONFIGURE_DEPENDS): a file belongs to the target of
# the folder it is in, so a new file needs no edit here and cannot land in the wrong
# layer.

set(MUSICFS_LIB_INCLUDE_ROOT ${PROJECT_BINARY_DIR}/lib_include)
set(MUSICFS_LIB_UNREACHABLE ${MUSICFS_LIB_INCLUDE_ROOT}/unreachable)
# Regenerated on every configure, so stubs and links of moved or removed headers and
# folders do not linger (nothing that builds includes a stub, so nothing rebuilds).
file(REMOVE_RECURSE ${MUSICFS_LIB_INCLUDE_ROOT})
file(MAKE_DIRECTORY ${MUSICFS_LIB_UNREACHABLE})
set_property(GLOBAL PROPERTY MUSICFS_LIB_TARGETS "")

# musicfs_lib_folder(<folder> [DEPS <folder>...] [LIBS <external target>...])
function(musicfs_lib_folder folder)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "DEPS;LIBS")
  set(target musicfs_${folder})
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/${folder})
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  file(GLOB headers CONFIGURE_DEPENDS RELATIVE ${dir} ${dir}/*.h)
  if(NOT sources)
    message(FATAL_ERROR "lib/${folder} has no .cpp file for ${target}")
  endif()
  add_library(${target} STATIC ${sources})

  set(root ${MUSICFS_LIB_INCLUDE_ROOT}/${folder})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${dir} ${root}/${folder} SYMBOLIC)
  target_include_directories(${target} PUBLIC ${root})

  foreach(header IN LISTS headers)
    file(WRITE ${MUSICFS_LIB_UNREACHABLE}/${folder}/${header}
      "#error \"${folder}/${header} is out of reach here: only code whose target links "
      "${target} may include lib/${folder}/ headers (the layers are declared in lib/CMakeLists.txt)\"\n")
  endforeach()

  set(deps "")
  foreach(dep IN LISTS arg_DEPS)
    if(NOT TARGET musicfs_${dep})
      message(FATAL_ERROR "${target}: declare lib/${dep} before lib/${folder} (a folder links only folders below it)")
    endif()
    list(APPEND deps musicfs_${dep})
  endforeach()
  target_link_libraries(${target} PUBLIC ${deps} ${arg_LIBS})
  set_property(GLOBAL APPEND PROPERTY MUSICFS_LIB_TARGETS ${target})
endfunction()
