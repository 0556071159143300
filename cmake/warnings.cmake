# Warnings are kept at zero: -Wall -Wextra -Wpedantic, errors in CI.
function(cryptcom_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(CRYPTCOM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
