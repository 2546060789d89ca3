# expect_match(TEXT REGEX WHAT): fails the test script, saying WHAT, unless TEXT matches REGEX.
function(expect_match text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: '${regex}' not found in:\n${text}")
  endif()
endfunction()
