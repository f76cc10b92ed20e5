//===- Report.h - Progress bar, CSV log and plot of a training run -*- C++ -*-===//
//
// What fashion-mnist-train shows and writes while it trains: a progress bar per epoch on stderr,
// the per-epoch CSV log and the gnuplot plot of the finished run.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_EXAMPLES_FASHION_MNIST_REPORT_H
#define OPTFUSE_EXAMPLES_FASHION_MNIST_REPORT_H

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace fmnist {

/// One finished epoch.
struct EpochResult {
  int64_t epoch = 0; // 1-based
  double trainLoss = 0;
  double testAccuracy = 0;
  double lr = 0; // the learning rate of the epoch's last step
  double seconds = 0;
};

/// The progress bar of one epoch on stderr. On a terminal it is redrawn after every step; otherwise
/// only the finished bar is printed, one line per epoch.
class ProgressBar {
public:
  ProgressBar(int64_t epoch, int64_t epochs, int64_t steps);
  /// After step `done` (1-based) with the running mean training loss.
  void update(int64_t done, double loss);
  /// Ends the line with the epoch's results.
  void finish(const EpochResult &result);

private:
  std::string bar(int64_t done, double loss) const;

  int64_t epoch_, epochs_, steps_;
  bool interactive_;
};

/// The per-epoch CSV log (epoch,train_loss,test_accuracy,lr,seconds), flushed after every line.
class CsvLog {
public:
  /// Opens `path` for writing (throws std::runtime_error when it cannot).
  explicit CsvLog(const std::string &path);
  void write(const EpochResult &result);

private:
  std::string path_;
  std::ofstream out_;
};

/// Throws std::runtime_error when `path` cannot be opened for writing (it is created when absent),
/// so that a bad --plot path fails before training rather than after.
void checkPlotPath(const std::string &path);

/// Plots test accuracy and training loss per epoch into the PNG file `path` by running gnuplot
/// with a generated script. Throws std::runtime_error when gnuplot fails or is missing.
void plotRun(const std::string &path, const std::string &title,
             const std::vector<EpochResult> &results);

} // namespace fmnist

#endif // OPTFUSE_EXAMPLES_FASHION_MNIST_REPORT_H
