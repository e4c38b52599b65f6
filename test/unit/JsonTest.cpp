// JSON text as the compiler writes it (support/Json.h): records keep their
// field order, values are escaped by llvm::json, and bytes that are not
// UTF-8 (from a user's file) still make valid JSON.
#include "support/Json.h"

#include <gtest/gtest.h>

namespace dfir {
namespace {

TEST(JsonTest, RecordKeepsFieldOrderOnOneLine) {
  JsonRecord r;
  r.add("z", 1).add("a", jsonString("x")).add("flag", true);
  EXPECT_EQ(r.str(), R"({"z": 1, "a": "x", "flag": true})");
}

TEST(JsonTest, NestedRecordsAndLists) {
  JsonRecord r;
  r.add("batch", JsonRecord().add("count", 64)).add("instances", std::vector<JsonRecord>{JsonRecord().add("id", 0),
                                                                                          JsonRecord().add("id", 1)});
  EXPECT_EQ(r.str(), R"({"batch": {"count": 64}, "instances": [{"id": 0}, {"id": 1}]})");
}

TEST(JsonTest, DocumentHasOneRecordPerLine) {
  std::string text = JsonDocument().add("program", jsonString("p")).add("items", {JsonRecord().add("a", 1)}).str();
  EXPECT_EQ(text, "{\n  \"program\": \"p\",\n  \"items\": [\n    {\"a\": 1}\n  ]\n}\n");
  EXPECT_TRUE(static_cast<bool>(llvm::json::parse(text)));
}

TEST(JsonTest, StringsAreEscaped) {
  EXPECT_EQ(jsonText(jsonString("a\"b\\c\nd\x01")), R"("a\"b\\c\nd\u0001")");
}

TEST(JsonTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  std::string text = jsonText(jsonString("ok \xff\xfe end"));
  EXPECT_TRUE(static_cast<bool>(llvm::json::parse(text)));
  EXPECT_NE(text.find("\xef\xbf\xbd"), std::string::npos); // U+FFFD
  EXPECT_NE(text.find(" end"), std::string::npos);
}

} // namespace
} // namespace dfir
