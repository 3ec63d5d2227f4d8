# paysync_add_plugin(NAME SOURCES a.c [b.c ...] [LIBS lib ...] [DESTINATION dir])
#
# Builds the paysync plugin NAME as a MODULE library: NAME.so (no "lib" prefix; NAME is also the
# descriptor's name, [a-z0-9_]+), compiled with hidden visibility so that the entry function
# (PS_PLUGIN_DEFINE) is its only exported symbol, against paysync::plugin_headers. It does not
# link any paysync library: plugins reach the core through the ps_host table only. The file is
# written to the current binary folder (build/NAME.so for a top-level project; point
# PAYSYNC_PLUGIN_PATH there, or `paysync test-plugin` at the file, to try it) and
# `cmake --install` puts it, mode 0755, into DESTINATION: by default PAYSYNC_PLUGIN_DIR, the
# plugin folder of the paysync installation that was found, where paysync finds it without
# configuration. A relative DESTINATION is relative to CMAKE_INSTALL_PREFIX.
# The target is named NAME (add sources, options or libraries to it as usual).
include_guard(GLOBAL)

function(paysync_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 P "" "DESTINATION" "SOURCES;LIBS")
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "paysync_add_plugin(${name}): unknown arguments: ${P_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[a-z0-9_]+$" OR name MATCHES "^.{65}")
    message(FATAL_ERROR "paysync_add_plugin(${name}): the plugin name must be 1-64 characters "
                        "of [a-z0-9_] (it is the file name and the descriptor's name)")
  endif()
  if(NOT P_SOURCES)
    message(FATAL_ERROR "paysync_add_plugin(${name}): SOURCES is empty")
  endif()
  if(NOT P_DESTINATION)
    if(NOT PAYSYNC_PLUGIN_DIR)
      message(FATAL_ERROR "paysync_add_plugin(${name}): PAYSYNC_PLUGIN_DIR is not set; "
                          "call find_package(paysync CONFIG) first or pass DESTINATION")
    endif()
    set(P_DESTINATION "${PAYSYNC_PLUGIN_DIR}")
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  target_link_libraries(${name} PRIVATE paysync::plugin_headers ${P_LIBS})
  set_target_properties(${name} PROPERTIES
    PREFIX "" SUFFIX ".so" OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  install(TARGETS ${name} LIBRARY DESTINATION ${P_DESTINATION}
    PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                WORLD_READ WORLD_EXECUTE)
endfunction()
