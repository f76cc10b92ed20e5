//===- Report.cpp - Progress bar, CSV log and plot of a training run ------===//

#include "examples/fashion_mnist/Report.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>

using namespace fmnist;

namespace {

constexpr int kBarWidth = 30;

/// `text` as a single-quoted gnuplot string.
std::string gnuplotQuote(const std::string &text) {
  std::string quoted = "'";
  for (char c : text)
    quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

} // namespace

//===----------------------------------------------------------------------===//
// ProgressBar
//===----------------------------------------------------------------------===//

ProgressBar::ProgressBar(int64_t epoch, int64_t epochs, int64_t steps)
    : epoch_(epoch), epochs_(epochs), steps_(steps), interactive_(isatty(STDERR_FILENO) != 0) {
  if (interactive_)
    std::cerr << bar(0, 0) << std::flush;
}

std::string ProgressBar::bar(int64_t done, double loss) const {
  int filled = static_cast<int>(kBarWidth * done / steps_);
  int width = static_cast<int>(std::to_string(epochs_).size());
  int stepWidth = static_cast<int>(std::to_string(steps_).size());
  std::ostringstream os;
  os << "epoch " << std::setw(width) << epoch_ << "/" << epochs_ << " [" << std::string(filled, '#')
     << std::string(kBarWidth - filled, '.') << "] " << std::setw(stepWidth) << done << "/"
     << steps_;
  if (done > 0)
    os << "  loss " << std::fixed << std::setprecision(4) << loss;
  return os.str();
}

void ProgressBar::update(int64_t done, double loss) {
  if (interactive_)
    std::cerr << "\r" << bar(done, loss) << std::flush;
}

void ProgressBar::finish(const EpochResult &result) {
  std::ostringstream os;
  os << bar(steps_, result.trainLoss) << "  test " << std::fixed << std::setprecision(4)
     << result.testAccuracy << "  lr " << std::defaultfloat << std::setprecision(4) << result.lr
     << "  " << std::fixed << std::setprecision(1) << result.seconds << " s";
  std::cerr << (interactive_ ? "\r" : "") << os.str() << std::endl;
}

//===----------------------------------------------------------------------===//
// CsvLog
//===----------------------------------------------------------------------===//

CsvLog::CsvLog(const std::string &path) : path_(path), out_(path) {
  if (!out_)
    throw std::runtime_error("cannot write the CSV log " + path);
  out_ << "epoch,train_loss,test_accuracy,lr,seconds" << std::endl;
}

void CsvLog::write(const EpochResult &result) {
  out_ << result.epoch << "," << std::setprecision(6) << result.trainLoss << ","
       << result.testAccuracy << "," << result.lr << "," << std::fixed << std::setprecision(3)
       << result.seconds << std::defaultfloat << std::endl;
  if (!out_)
    throw std::runtime_error("cannot write the CSV log " + path_);
}

//===----------------------------------------------------------------------===//
// plotRun
//===----------------------------------------------------------------------===//

void fmnist::checkPlotPath(const std::string &path) {
  if (!std::ofstream(path, std::ios::app))
    throw std::runtime_error("cannot write the plot " + path);
}

void fmnist::plotRun(const std::string &path, const std::string &title,
                     const std::vector<EpochResult> &results) {
  std::ostringstream script;
  script << "set terminal pngcairo size 900,560 font ',10'\n"
         << "set output " << gnuplotQuote(path) << "\n"
         << "set title " << gnuplotQuote(title) << " noenhanced\n"
         << "set xlabel 'epoch'\n"
         << "set ylabel 'test accuracy'\n"
         << "set y2label 'training loss'\n"
         << "set xtics " << std::max<size_t>(1, results.size() / 10) << "\n"
         << "set ytics nomirror\n"
         << "set y2tics\n"
         << "set grid\n"
         << "set key center right\n"
         << "$run << EOD\n";
  for (const EpochResult &r : results)
    script << r.epoch << " " << r.testAccuracy << " " << r.trainLoss << "\n";
  script << "EOD\n"
         << "plot $run using 1:2 with linespoints lw 2 title 'test accuracy', \\\n"
         << "     $run using 1:3 axes x1y2 with linespoints lw 2 title 'training loss'\n";

  // gnuplot reports errors on stderr; its stdout is dropped, so that this program's stdout keeps
  // only the result line. A gnuplot that exits early must not kill this process with SIGPIPE.
  void (*previous)(int) = std::signal(SIGPIPE, SIG_IGN);
  FILE *gnuplot = popen("gnuplot >/dev/null", "w");
  int status = -1;
  if (gnuplot) {
    std::string text = script.str();
    fwrite(text.data(), 1, text.size(), gnuplot);
    status = pclose(gnuplot);
  }
  std::signal(SIGPIPE, previous);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      throw std::runtime_error("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
    throw std::runtime_error("gnuplot failed to write " + path);
  }
}
