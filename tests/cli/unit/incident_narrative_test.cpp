// The --narrative stories: each built-in scenario has its own, told with the numbers of its own
// file; a custom scenario (or a built-in id whose file lacks a quoted metric) gets the generic
// story built from its fields.
#include <gtest/gtest.h>

#include "cli/incident_narrative.hpp"
#include "incidents/builtin.hpp"

namespace trafficsim::cli {
namespace {

std::string all_words(const IncidentStory& s) {
  return s.title + "\n" + s.calm + "\n" + s.wrong + "\n" + s.diagnosis + "\n" + s.fix + "\n" +
         s.moral;
}

TEST(IncidentNarrativeTest, EveryBuiltInScenarioHasItsOwnStoryInFourActs) {
  for (const auto& sc : incidents::builtin_incident_scenarios()) {
    IncidentStory story = incident_story(sc);
    EXPECT_NE(story.title, sc.name) << sc.id << ": the generic story";
    for (const std::string* act : {&story.calm, &story.wrong, &story.diagnosis, &story.fix})
      EXPECT_GT(act->size(), 80u) << sc.id;
    EXPECT_NE(all_words(story).find(sc.service), std::string::npos) << sc.id;
  }
}

TEST(IncidentNarrativeTest, TheStoriesQuoteTheScenariosOwnNumbers) {
  auto memory =
      all_words(incident_story(*incidents::find_incident_scenario("memory_leak_gradual")));
  for (const char* n :
       {"2 GB", "8 GB", "15 million objects", "5,000 collections", "5.2σ", "v2.4.0", "45 minutes"})
    EXPECT_NE(memory.find(n), std::string::npos) << n << "\n" << memory;
  auto cpu =
      all_words(incident_story(*incidents::find_incident_scenario("cpu_spike_traffic_surge")));
  for (const char* n : {"800 req/s", "3,500 req/s", "4.4 times", "98.5 %", "300 ms", "4.2 s"})
    EXPECT_NE(cpu.find(n), std::string::npos) << n << "\n" << cpu;
  auto db = all_words(incident_story(*incidents::find_incident_scenario("latency_spike_database")));
  for (const char* n : {"50 ms", "7.2 s", "98 connections", "8.5 s", "v3.1.2"})
    EXPECT_NE(db.find(n), std::string::npos) << n << "\n" << db;

  // Other numbers in the file, other numbers in the story.
  incidents::IncidentScenario bigger = *incidents::find_incident_scenario("memory_leak_gradual");
  bigger.metrics[0].value = 12e9;
  EXPECT_NE(all_words(incident_story(bigger)).find("12 GB"), std::string::npos);
}

TEST(IncidentNarrativeTest, ACustomScenarioGetsAStoryFromItsOwnFields) {
  incidents::IncidentScenario sc = *incidents::find_incident_scenario("memory_leak_gradual");
  sc.id = "checkout_errors";
  sc.name = "Checkout errors";
  sc.service = "checkout-service";
  IncidentStory story = incident_story(sc);
  EXPECT_EQ(story.title, "Checkout errors");
  EXPECT_NE(story.calm.find("checkout-service"), std::string::npos) << story.calm;
  EXPECT_NE(story.wrong.find("memory_usage_bytes goes to 8 GB"), std::string::npos) << story.wrong;

  // A built-in id whose file lacks a metric the story quotes: the generic story, not a gap.
  incidents::IncidentScenario thin = *incidents::find_incident_scenario("cpu_spike_traffic_surge");
  thin.metrics.erase(thin.metrics.begin());
  EXPECT_EQ(incident_story(thin).title, thin.name);
}

}  // namespace
}  // namespace trafficsim::cli
