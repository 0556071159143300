# Applied to every target of the tree, so the libraries and the tests agree on the runtime.
if(CRYPTCOM_SANITIZE)
  add_compile_options(-fsanitize=${CRYPTCOM_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${CRYPTCOM_SANITIZE})
  if(CRYPTCOM_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
