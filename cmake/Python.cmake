# pybind11 (Debian's pybind11-dev) for the Python package under tools/python, built against
# Debian's interpreter. PYBIND11_FINDPYTHON makes pybind11 use CMake's FindPython, which honours
# Python_EXECUTABLE; without a default it would take the first python3 on PATH, and on these
# machines that is a pyenv interpreter without numpy.
if(NOT DEFINED Python_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The interpreter the Python package is built for")
endif()
set(PYBIND11_FINDPYTHON ON)
find_package(pybind11 CONFIG QUIET)
