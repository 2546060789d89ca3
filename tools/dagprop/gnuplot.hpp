// Plots through gnuplot, run as a subprocess on a script written beside the images (kept, so a
// figure can be restyled and redrawn by hand). No image code of our own.
#pragma once

#include <filesystem>
#include <string>

namespace dagprop::cli {

// Script lines that draw `body` (gnuplot commands ending in a plot or a multiplot) twice: into
// NAME.png and NAME.svg.
std::string png_and_svg(const std::string& name, const std::string& body, int width = 900,
                        int height = 560);

// Writes `script` to folder/script_name and runs gnuplot on it inside `folder`, its messages going
// to folder/gnuplot.log. Plots are an extra: when gnuplot is missing or fails this prints a warning
// naming the fix and returns false, and the run's other files still stand.
bool run_gnuplot(const std::filesystem::path& folder, const std::string& script_name,
                 const std::string& script);

// A gnuplot string literal of `text`: newlines become line breaks, everything else stays as it is.
std::string gnuplot_quote(const std::string& text);

}  // namespace dagprop::cli
