# Checks a picture the way a person would look at it: it exists, its size fits a page (the PNG's
# width and height, read from its header), and the words a reader needs are in it (the SVG's
# text, or any text file). Optionally draws it first with `dagprop dot`.
# Variables:
#   EXE, GRAPH, DOT_ARGS (|-separated): run `EXE dot GRAPH DOT_ARGS -o PNG` and `-o TEXT_FILE` first
#   PNG: the picture (a PNG, or an SVG drawn by Graphviz); MIN_ASPECT and MAX_ASPECT: bounds on width / height, in percent;
#   MAX_SIDE: the longest side allowed, in pixels
#   TEXT_FILE (SVG, a report...) and TEXTS (|-separated): strings that must all appear in it
if(DEFINED EXE AND DEFINED GRAPH)
  string(REPLACE "|" ";" dot_args "${DOT_ARGS}")
  foreach(output IN ITEMS "${PNG}" "${TEXT_FILE}")
    execute_process(COMMAND "${EXE}" dot "${GRAPH}" ${dot_args} -o "${output}"
                    RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "dagprop dot ${GRAPH} ${dot_args} -o ${output} failed (${status}): "
                          "${out}${err}")
    endif()
  endforeach()
endif()

if(NOT EXISTS "${PNG}")
  message(FATAL_ERROR "${PNG} was not drawn")
endif()
if(PNG MATCHES "\\.svg$")
  # Graphviz's SVG states its size in points; at 96 pixels an inch a point is 4/3 of a pixel.
  file(READ "${PNG}" svg LIMIT 2000)
  if(NOT svg MATCHES "<svg width=\"([0-9]+)pt\" height=\"([0-9]+)pt\"")
    message(FATAL_ERROR "${PNG} states no size in points")
  endif()
  math(EXPR width "${CMAKE_MATCH_1} * 4 / 3")
  math(EXPR height "${CMAKE_MATCH_2} * 4 / 3")
else()
  file(READ "${PNG}" header LIMIT 24 HEX)
  if(NOT header MATCHES "^89504e470d0a1a0a")
    message(FATAL_ERROR "${PNG} is not a PNG file")
  endif()
  string(SUBSTRING "${header}" 32 8 width_hex)
  string(SUBSTRING "${header}" 40 8 height_hex)
  math(EXPR width "0x${width_hex}")
  math(EXPR height "0x${height_hex}")
endif()
math(EXPR aspect "100 * ${width} / ${height}")
if(aspect LESS MIN_ASPECT OR aspect GREATER MAX_ASPECT)
  message(FATAL_ERROR "${PNG} is ${width}x${height} pixels: width/height ${aspect}% is outside "
                      "${MIN_ASPECT}%..${MAX_ASPECT}%; a person would have to crop it")
endif()
if(width GREATER MAX_SIDE OR height GREATER MAX_SIDE)
  message(FATAL_ERROR "${PNG} is ${width}x${height} pixels, over ${MAX_SIDE} on a side")
endif()
message(STATUS "${PNG}: ${width}x${height} pixels (width/height ${aspect}%)")

if(DEFINED TEXT_FILE)
  file(READ "${TEXT_FILE}" content)
  # SVG text escapes these; compare with what a reader sees.
  string(REPLACE "&#45;" "-" content "${content}")
  string(REPLACE "&amp;" "&" content "${content}")
  string(REPLACE "|" ";" texts "${TEXTS}")
  foreach(text IN LISTS texts)
    string(FIND "${content}" "${text}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "'${text}' is not in ${TEXT_FILE}")
    endif()
  endforeach()
endif()
