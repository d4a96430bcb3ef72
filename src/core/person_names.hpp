#pragma once
// The built-in people of text templates ({{first_name}}, {{last_name}}, {{name}}, {{email}}):
// names from many countries, ASCII only so that the lower-cased email is a valid address. The
// tables are constexpr so that the longest name (and so a rendering's size bound and the stack
// buffer that holds a generated email) is a compile-time constant.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/text_template.hpp"

namespace trafficsim::core {

// The domain of every generated email: first.last.K@example.com (RFC 2606, never delivered).
inline constexpr std::string_view kEmailDomain = "@example.com";

inline constexpr std::array<std::string_view, 64> kFirstNames = {
    "James",    "Mary",   "Olivia",  "Liam",    "Sophia", "Noah",   "Emma",   "Mateo",
    "Isabella", "Lucas",  "Amelia",  "Hiroshi", "Yuki",   "Wei",    "Mei",    "Arjun",
    "Priya",    "Aisha",  "Omar",    "Fatima",  "Kwame",  "Amara",  "Chidi",  "Zanele",
    "Sipho",    "Ingrid", "Lars",    "Astrid",  "Sven",   "Elena",  "Dmitri", "Anya",
    "Giulia",   "Marco",  "Lucia",   "Javier",  "Carmen", "Diego",  "Camila", "Thiago",
    "Beatriz",  "Rafael", "Nadia",   "Karim",   "Leila",  "Hana",   "Jin",    "Minjun",
    "Aroha",    "Tane",   "Siobhan", "Declan",  "Niamh",  "Pierre", "Chloe",  "Zofia",
    "Piotr",    "Emre",   "Elif",    "Tariq",   "Ananya", "Daniel", "Grace",  "Samuel",
};

inline constexpr std::array<std::string_view, 64> kLastNames = {
    "Smith",    "Johnson",  "Garcia",    "Martinez",  "Nguyen",    "Kim",     "Park",
    "Chen",     "Wang",     "Li",        "Tanaka",    "Sato",      "Suzuki",  "Patel",
    "Sharma",   "Singh",    "Khan",      "Ahmed",     "Hassan",    "Okafor",  "Mensah",
    "Adeyemi",  "Dlamini",  "Mwangi",    "Kowalski",  "Nowak",     "Ivanov",  "Petrov",
    "Muller",   "Schmidt",  "Fischer",   "Rossi",     "Russo",     "Bianchi", "Dubois",
    "Lefebvre", "Moreau",   "Silva",     "Santos",    "Oliveira",  "Pereira", "Fernandez",
    "Lopez",    "Gonzalez", "Hernandez", "Andersson", "Johansson", "Nielsen", "Hansen",
    "Murphy",   "Kelly",    "Walsh",     "Brown",     "Taylor",    "Wilson",  "Thompson",
    "Yilmaz",   "Kaya",     "Cohen",     "Haddad",    "Rahman",    "Tran",    "Zhang",
    "Yamamoto",
};

// The length of the longest name of a table.
constexpr size_t longest_name(const auto& names) {
  size_t n = 0;
  for (std::string_view name : names) n = std::max(n, name.size());
  return n;
}


inline constexpr size_t kLongestFirstName = longest_name(kFirstNames);
inline constexpr size_t kLongestLastName = longest_name(kLastNames);
// Upper bounds of write_full_name and write_email (k has at most 20 digits).
inline constexpr size_t kMaxFullNameSize = kLongestFirstName + 1 + kLongestLastName;
inline constexpr size_t kMaxEmailSize =
    kLongestFirstName + 1 + kLongestLastName + 1 + 20 + kEmailDomain.size();

// One person of the tables (views into them: valid for the life of the program).
struct Person {
  std::string_view first;
  std::string_view last;
};

// The person of an arrival: every person placeholder of one arrival, in any template of the
// request, describes the same person (a draw keyed by the arrival and "person" only).
Person draw_person(const RenderContext& ctx);

// Writes "First Last" to buf (at least kMaxFullNameSize bytes); returns the length written.
size_t write_full_name(const Person& person, char* buf);
// Writes "first.last.K@example.com" in lower case to buf (at least kMaxEmailSize bytes): unique
// per arrival k. Returns the length written.
size_t write_email(const Person& person, uint64_t k, char* buf);

}  // namespace trafficsim::core
