// Running gnuplot: fork, change into the output folder (so the script names its files without
// paths, and no path ever needs quoting), exec.
#include "gnuplot.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include <dagprop/error.hpp>

namespace dagprop::cli {

std::string png_and_svg(const std::string& name, const std::string& body, int width, int height) {
  const std::string size = std::to_string(width) + "," + std::to_string(height);
  // `reset` first: one script draws several figures, and a setting of one (a log scale) must not
  // leak into the next. `noenhanced`: names such as step_ste are text, not subscripts.
  const std::string figure = "reset\n" + body + "\nset output\n";
  return "set terminal pngcairo noenhanced size " + size + " font 'sans,10'\nset output '" + name +
         ".png'\n" + figure + "set terminal svg noenhanced size " + size +
         " dynamic font 'sans,10'\nset output '" + name + ".svg'\n" + figure;
}

std::string gnuplot_quote(const std::string& text) {
  // Double quotes, so that a newline can be written "\n" (a title of two lines); a backslash or
  // a quote of the text is escaped, and nothing else in it is special (the terminals are
  // `noenhanced`).
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '\n') {
      quoted += "\\n";
    } else if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

bool run_gnuplot(const std::filesystem::path& folder, const std::string& script_name,
                 const std::string& script) {
  {
    std::ofstream out(folder / script_name);
    out << script;
    if (!out) throw Error("cannot write " + (folder / script_name).string());
  }
  std::fflush(nullptr);  // the child must not inherit and flush our buffered output again
  const pid_t child = ::fork();
  if (child < 0) {
    std::fprintf(stderr, "dagprop: plots skipped: cannot start gnuplot (fork failed)\n");
    return false;
  }
  if (child == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (::chdir(folder.c_str()) != 0) ::_exit(126);
    const int log = ::open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::close(log);
    }
    ::execlp("gnuplot", "gnuplot", script_name.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    std::fprintf(stderr,
                 "dagprop: plots skipped: gnuplot is not installed; install it with `apt-get "
                 "install gnuplot-nox` and rerun, or run `gnuplot %s` in %s later\n",
                 script_name.c_str(), folder.c_str());
  } else {
    std::fprintf(stderr, "dagprop: plots incomplete: gnuplot failed on %s; see %s\n",
                 (folder / script_name).c_str(), (folder / "gnuplot.log").c_str());
  }
  return false;
}

}  // namespace dagprop::cli
