# What every installed library of cryptcom has: its file name, its name in the CMake package
# (cryptcom::<export_name>), and, when shared, a version and a SONAME.
# Before 1.0 any minor release may change the ABI, so the SONAME carries major.minor
# (libcryptcom-zmq.so.0.2); from 1.0 on, the major version alone.
function(cryptcom_library_properties target output_name export_name)
  if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(soversion ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  else()
    set(soversion ${PROJECT_VERSION_MAJOR})
  endif()
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${output_name}
                                             EXPORT_NAME ${export_name}
                                             VERSION ${PROJECT_VERSION}
                                             SOVERSION ${soversion})
endfunction()
