#pragma once
// The one demo clock of seed 002's Black Friday story, shared by the scenarios (rates by demo
// minute) and the demo service (recommendations that degrade by demo minute): both read the same
// minute from the same three numbers, so a run and its target tell the same story.
namespace trafficsim::core {

struct DemoClockSpec {
  double start_unix = 0;         // when demo minute 0 began, Unix seconds
  double time_scale = 1;         // demo seconds per real second (60: a demo minute a second)
  double duration_minutes = 30;  // the story's length in demo minutes
};

// (now_unix - start) * time_scale / 60, never below 0 (a start in the future has not begun).
inline double demo_minute(const DemoClockSpec& clock, double now_unix) {
  double m = (now_unix - clock.start_unix) * clock.time_scale / 60.0;
  return m > 0 ? m : 0.0;
}

}  // namespace trafficsim::core
