#include "demo_service/llm_classifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "core/random.hpp"

namespace trafficsim::demo_service {
namespace {

// The error a parser returned has this status, code and field, and its message names the field.
template <class T>
::testing::AssertionResult IsApiError(const std::variant<T, ApiError>& result, int status,
                                      std::string_view code, std::string_view field) {
  const auto* error = std::get_if<ApiError>(&result);
  if (error == nullptr) return ::testing::AssertionFailure() << "no error";
  if (error->status != status || error->code != code || error->field != field) {
    return ::testing::AssertionFailure() << "got " << error->status << " " << error->code
                                         << " field '" << error->field << "': " << error->message;
  }
  if (!field.empty() && error->message.find(field) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message does not name " << field << ": " << error->message;
  }
  return ::testing::AssertionSuccess();
}

ClassifyRequest email(std::string subject, std::string body,
                      std::string sender = "talent@acme.example") {
  return ClassifyRequest{std::move(subject), std::move(body), std::move(sender)};
}

std::string_view category_of(const ClassifyRequest& request) {
  return classify_email(request, 42).category;
}

// ---- classification -------------------------------------------------------------------------

TEST(LlmClassifierTest, ListsTheSixCategories) {
  EXPECT_EQ(llm_categories(),
            (std::vector<std::string_view>{"interview", "offer", "rejection",
                                           "application_received", "recruiter_outreach", "other"}));
}

TEST(LlmClassifierTest, ClassifiesRealisticEmails) {
  EXPECT_EQ(category_of(email("Offer of employment - Backend Engineer",
                              "Hi Sam, we are pleased to offer you the position. Your offer "
                              "letter is attached.")),
            "offer");
  EXPECT_EQ(category_of(email("Your application at Acme",
                              "Thank you for your interest. Unfortunately we have decided to "
                              "move ahead with other candidates.")),
            "rejection");
  EXPECT_EQ(category_of(email("Next steps",
                              "We'd like to schedule a call for a first interview. "
                              "Please share your availability this week.")),
            "interview");
  EXPECT_EQ(category_of(email("Application received",
                              "Thank you for applying! We received your application and will "
                              "be in touch.")),
            "application_received");
  EXPECT_EQ(category_of(email("Exciting opportunity at Initech",
                              "Hi! I'm a recruiter at Initech and I'm reaching out because your "
                              "profile looks like a great fit.")),
            "recruiter_outreach");
  EXPECT_EQ(category_of(email("Weekly newsletter", "Here are this week's top stories.")), "other");
}

TEST(LlmClassifierTest, IgnoresCase) {
  EXPECT_EQ(category_of(email("INTERVIEW INVITATION", "PLEASE SEND YOUR AVAILABILITY.")),
            "interview");
}

TEST(LlmClassifierTest, RejectionWinsOverThePoliteOpening) {
  // Rejections usually start like an acknowledgement; the decision is what matters.
  EXPECT_EQ(category_of(email("Re: your application",
                              "Thank you for applying and we received your application. "
                              "Unfortunately we are not moving forward.")),
            "rejection");
}

TEST(LlmClassifierTest, OfferWinsOverRejectionWording) {
  EXPECT_EQ(category_of(email("Offer",
                              "Unfortunately the offer letter is a day late, but we are "
                              "pleased to offer you the role.")),
            "offer");
}

TEST(LlmClassifierTest, MostKeywordsWinAmongTheOtherCategories) {
  // One interview word (availability) against three recruiter words.
  EXPECT_EQ(category_of(email("Opportunity",
                              "I'm a recruiter reaching out; what is your "
                              "availability?")),
            "recruiter_outreach");
  // Two interview words against one acknowledgement.
  EXPECT_EQ(category_of(email("Interview",
                              "Thank you for applying. We'd like to schedule a call "
                              "for an interview.")),
            "interview");
}

TEST(LlmClassifierTest, ConfidenceGrowsWithHitsAndStaysInRange) {
  const auto one = classify_email(email("Hello", "Unfortunately not."), 1);
  const auto three = classify_email(
      email("Hello", "Unfortunately, we regret to inform you we chose other candidates."), 1);
  EXPECT_EQ(one.category, "rejection");
  EXPECT_EQ(three.category, "rejection");
  EXPECT_GT(three.confidence, one.confidence);
  EXPECT_GE(one.confidence, 0.55);
  EXPECT_LE(three.confidence, 0.98);

  std::string stuffed =
      "pleased to offer, offer letter, job offer, extend an offer, happy to "
      "offer, offer of employment, compensation package";
  EXPECT_DOUBLE_EQ(classify_email(email("Offer", stuffed), 1).confidence, 0.98);
  EXPECT_DOUBLE_EQ(classify_email(email("Lunch?", "Pizza on Friday."), 1).confidence, 0.5);
}

TEST(LlmClassifierTest, MixedSignalsLowerConfidence) {
  const auto clean = classify_email(email("Hi", "Unfortunately not this time."), 1);
  const auto mixed = classify_email(
      email("Interview", "Unfortunately not this time, after the interview and phone screen."), 1);
  EXPECT_EQ(mixed.category, "rejection");
  EXPECT_LT(mixed.confidence, clean.confidence);
  EXPECT_GE(mixed.confidence, 0.55);
}

// ---- tokens ---------------------------------------------------------------------------------

TEST(LlmClassifierTest, EstimatesAboutFourCharactersPerTokenRoundedUp) {
  EXPECT_EQ(estimate_tokens(""), 0);
  EXPECT_EQ(estimate_tokens("a"), 1);
  EXPECT_EQ(estimate_tokens("abcd"), 1);
  EXPECT_EQ(estimate_tokens("abcde"), 2);
  EXPECT_EQ(estimate_tokens(std::string(400, 'x')), 100);
  EXPECT_EQ(estimate_tokens(std::string(10'001, 'x')), 2501);
}

TEST(LlmClassifierTest, InputTokensCountEveryFieldPlusThePrompt) {
  const auto request = email(std::string(40, 's'), std::string(400, 'b'), std::string(20, 'f'));
  EXPECT_EQ(classify_email(request, 7).input_tokens, 10 + 100 + 5 + kPromptOverheadTokens);
}

TEST(LlmClassifierTest, OutputTokensVaryBetween15And40) {
  std::set<int64_t> seen;
  for (uint64_t i = 0; i < 2000; ++i) {
    const auto result = classify_email(email("Hi", "Interview?"), core::mix64(i));
    ASSERT_GE(result.output_tokens, 15);
    ASSERT_LE(result.output_tokens, 40);
    seen.insert(result.output_tokens);
  }
  EXPECT_EQ(seen.size(), 26u);
}

// ---- latency --------------------------------------------------------------------------------

TEST(LlmClassifierTest, NormalEmailLatencyIsTheBaselinePlusPrefill) {
  const auto request = email("Interview", std::string(400, 'b'));  // ~160 input tokens
  const int64_t input_tokens = classify_email(request, 0).input_tokens;
  const double prefill_ms = 0.1 * static_cast<double>(input_tokens);
  int64_t lowest = INT64_MAX;
  int64_t highest = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    const int64_t ms = classify_email(request, core::mix64(i)).model_latency_ms;
    lowest = std::min(lowest, ms);
    highest = std::max(highest, ms);
  }
  EXPECT_GE(lowest, static_cast<int64_t>(200 + prefill_ms));
  EXPECT_LE(highest, static_cast<int64_t>(500 + prefill_ms) + 1);
  // The draws cover the range rather than sitting in one spot.
  EXPECT_LT(lowest, 200 + prefill_ms + 10);
  EXPECT_GT(highest, 500 + prefill_ms - 10);
}

TEST(LlmClassifierTest, LargePromptsAreVisiblySlower) {
  const auto normal = email("Interview", std::string(600, 'b'));
  const auto bloated = email("Interview", std::string(20'000, 'b'));  // 5 000 tokens
  int64_t normal_max = 0;
  int64_t bloated_min = INT64_MAX;
  for (uint64_t i = 0; i < 500; ++i) {
    normal_max = std::max(normal_max, classify_email(normal, core::mix64(i)).model_latency_ms);
    bloated_min = std::min(bloated_min, classify_email(bloated, core::mix64(i)).model_latency_ms);
  }
  EXPECT_GT(bloated_min, normal_max);
  EXPECT_GT(classify_email(bloated, 0).input_tokens, 5000);
}

TEST(LlmClassifierTest, LatencyIsCappedAt15Seconds) {
  const auto huge = email("x", std::string(2'000'000, 'b'));
  EXPECT_EQ(classify_email(huge, ~uint64_t{0}).model_latency_ms, kMaxModelLatencyMs);
}

TEST(LlmClassifierTest, IsDeterministicInRandomBits) {
  const auto request = email("Interview", "Your availability?");
  const auto a = classify_email(request, 123456789);
  const auto b = classify_email(request, 123456789);
  EXPECT_EQ(a.model_latency_ms, b.model_latency_ms);
  EXPECT_EQ(a.output_tokens, b.output_tokens);
  EXPECT_EQ(a.category, b.category);
}

// ---- request validation ---------------------------------------------------------------------

TEST(ClassifyRequestTest, ParsesAValidBodyAndIgnoresExtraFields) {
  auto result = parse_classify_request(
      R"({"subject":"Hi","body":"Interview?","sender":"a@b.example","trace":"x"})");
  ASSERT_TRUE(std::holds_alternative<ClassifyRequest>(result));
  const auto& request = std::get<ClassifyRequest>(result);
  EXPECT_EQ(request.subject, "Hi");
  EXPECT_EQ(request.body, "Interview?");
  EXPECT_EQ(request.sender, "a@b.example");
}

TEST(ClassifyRequestTest, RejectsMalformedJson) {
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"subject": )"), 400, "invalid_json", ""));
  EXPECT_TRUE(IsApiError(parse_classify_request(""), 400, "invalid_json", ""));
}

TEST(ClassifyRequestTest, RejectsANonObject) {
  EXPECT_TRUE(IsApiError(parse_classify_request("[1,2]"), 400, "invalid_type", "body"));
  EXPECT_TRUE(IsApiError(parse_classify_request(R"("text")"), 400, "invalid_type", "body"));
}

TEST(ClassifyRequestTest, NamesTheMissingField) {
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"body":"b","sender":"s"})"), 400,
                         "missing_field", "subject"));
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"subject":"s","sender":"s"})"), 400,
                         "missing_field", "body"));
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"subject":"s","body":"b"})"), 400,
                         "missing_field", "sender"));
}

TEST(ClassifyRequestTest, NamesTheFieldOfTheWrongType) {
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"subject":1,"body":"b","sender":"s"})"), 400,
                         "invalid_type", "subject"));
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"subject":"s","body":null,"sender":"s"})"), 400,
                         "invalid_type", "body"));
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"subject":"s","body":"b","sender":["s"]})"),
                         400, "invalid_type", "sender"));
}

TEST(ClassifyRequestTest, RejectsAnEmptyBody) {
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"subject":"s","body":"","sender":"s"})"), 400,
                         "invalid_value", "body"));
  EXPECT_TRUE(IsApiError(parse_classify_request(R"({"subject":"s","body":" \n ","sender":"s"})"),
                         400, "invalid_value", "body"));
}

// ---- X-Fault-Delay-Ms -----------------------------------------------------------------------

TEST(FaultDelayHeaderTest, AbsentOrEmptyMeansNoDelay) {
  EXPECT_EQ(std::get<int64_t>(parse_fault_delay_ms("")), 0);
  EXPECT_EQ(std::get<int64_t>(parse_fault_delay_ms("  ")), 0);
}

TEST(FaultDelayHeaderTest, AcceptsWholeMillisecondsUpTo30000) {
  EXPECT_EQ(std::get<int64_t>(parse_fault_delay_ms("0")), 0);
  EXPECT_EQ(std::get<int64_t>(parse_fault_delay_ms("2500")), 2500);
  EXPECT_EQ(std::get<int64_t>(parse_fault_delay_ms(" 30000 ")), 30000);
}

TEST(FaultDelayHeaderTest, RejectsEverythingElse) {
  for (const char* value :
       {"abc", "-1", "+5", "1.5", "30001", "99999999999999999999999", "10ms", "1 000"}) {
    EXPECT_TRUE(IsApiError(parse_fault_delay_ms(value), 400, "invalid_header", "X-Fault-Delay-Ms"))
        << value;
  }
}

}  // namespace
}  // namespace trafficsim::demo_service
