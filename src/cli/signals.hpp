#pragma once
// Ctrl+C / SIGTERM handling for long runs: the first signal makes stop_fd() readable (the engine
// stops issuing and drains), a second SIGINT exits at once with status 130.
namespace trafficsim::cli {

// Installs the handlers; returns an eventfd that becomes readable on the first signal.
int install_stop_signals();
// True once a stop signal arrived.
bool stop_signal_received();

}  // namespace trafficsim::cli
