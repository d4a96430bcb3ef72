#include "cli/live_view.hpp"

#include <fmt/format.h>

#include "cli/terminal.hpp"

namespace trafficsim::cli {

void LiveView::follow(jobs::TrafficJob& job) {
  job.subscribe([this](const jobs::TrafficSnapshot& s) { show(s); });
}

void LiveView::show(const jobs::TrafficSnapshot& snap) {
  std::string suffix;
  if (snap.engine.streams.size() > 1)
    for (const auto& st : snap.engine.streams)
      suffix += fmt::format("  | {} {}/s {:.1f}%", st.name, format_rate(st.interval_rps),
                            st.interval_error_ratio * 100);
  if (snap.demo_minute) suffix += fmt::format("  | demo minute {:.1f}", *snap.demo_minute);
  line_.update(snap.engine, prefix_, suffix);
}

}  // namespace trafficsim::cli
