#include "jobs/job_runner.hpp"

namespace trafficsim::jobs {

const char* to_string(JobState state) {
  switch (state) {
    case JobState::created:
      return "created";
    case JobState::running:
      return "running";
    case JobState::finished:
      return "finished";
    case JobState::failed:
      return "failed";
  }
  return "unknown";
}

}  // namespace trafficsim::jobs
