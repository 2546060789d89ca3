// Which symbols a shared dagprop library exports: the declarations of its public headers. The
// libraries are compiled with hidden visibility (cmake/Library.cmake); each public header opens its
// declarations with DAGPROP_API_BEGIN and closes them with DAGPROP_API_END, so what a user can name
// is exactly what the library exports, and internal helpers stay out of its symbol table.
#pragma once

#define DAGPROP_API_BEGIN _Pragma("GCC visibility push(default)")
#define DAGPROP_API_END _Pragma("GCC visibility pop")
