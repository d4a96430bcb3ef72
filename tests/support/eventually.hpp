#pragma once
// Waiting on a condition with a deadline, for state no fd or callback announces (a counter another
// thread increments): polls every 2 ms, never a fixed sleep standing in for the wait.
#include <chrono>
#include <thread>

namespace trafficsim::testing {

// Polls `condition` until it holds or the deadline passes; true if it held.
template <class Condition>
bool eventually(Condition condition,
                std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a poll interval, not a wait
  }
  return true;
}

}  // namespace trafficsim::testing
