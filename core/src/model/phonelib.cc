// paysync core: libphonenumber behind a C interface (see phonelib.h). Every entry point
// catches all exceptions; nothing here is mutable state of paysync's.
#include "model/phonelib.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstdlib>
#include <cstring>
#include <list>
#include <string>
#include <utility>
#include <vector>

// The library's compiled metadata (its internal metadata.h, not installed by Debian; the
// symbols are exported by libphonenumber.so): the serialised PhoneMetadataCollection it
// loads its own plans from.
namespace i18n
{
namespace phonenumbers
{
int metadata_size();
const void *metadata_get();
} // namespace phonenumbers
} // namespace i18n

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

namespace
{

const PhoneNumberUtil &util()
{
    return *PhoneNumberUtil::GetInstance();
}

bool copy_out(const std::string &s, char *out, size_t cap)
{
    if (!out || s.size() >= cap)
        return false;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return true;
}

ps_phonelib_verdict from_parse_error(PhoneNumberUtil::ErrorType e)
{
    switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
        return PS_PHONELIB_BAD_COUNTRY;
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
        return PS_PHONELIB_TOO_SHORT;
    case PhoneNumberUtil::TOO_LONG_NSN:
        return PS_PHONELIB_TOO_LONG;
    default:
        return PS_PHONELIB_NOT_A_NUMBER;
    }
}

ps_phonelib_verdict from_possible(PhoneNumberUtil::ValidationResult r)
{
    switch (r) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
        return PS_PHONELIB_BAD_COUNTRY;
    case PhoneNumberUtil::TOO_SHORT:
        return PS_PHONELIB_TOO_SHORT;
    case PhoneNumberUtil::TOO_LONG:
        return PS_PHONELIB_TOO_LONG;
    case PhoneNumberUtil::INVALID_LENGTH:
        return PS_PHONELIB_BAD_LENGTH;
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
        return PS_PHONELIB_LOCAL_ONLY;
    default:
        return PS_PHONELIB_INVALID;
    }
}

// Calls visit(id, country_code, entry bytes) for each PhoneMetadata of the library's compiled
// collection (PhoneMetadataCollection: field 1, repeated PhoneMetadata), reading only each
// entry's id (field 9) and country_code (field 10); stops when visit returns true. False when
// the collection cannot be read.
template <typename F> bool scan_metadata(F visit)
{
    using google::protobuf::internal::WireFormatLite;
    google::protobuf::io::CodedInputStream all(
        static_cast<const uint8_t *>(i18n::phonenumbers::metadata_get()),
        i18n::phonenumbers::metadata_size());
    all.SetTotalBytesLimit(INT32_MAX);
    std::string entry;
    for (uint32_t tag; (tag = all.ReadTag()) != 0;) {
        uint32_t len;
        if (WireFormatLite::GetTagFieldNumber(tag) != 1 ||
            WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
            if (!WireFormatLite::SkipField(&all, tag))
                return false;
            continue;
        }
        if (!all.ReadVarint32(&len) || !all.ReadString(&entry, static_cast<int>(len)))
            return false;
        google::protobuf::io::CodedInputStream one(reinterpret_cast<const uint8_t *>(entry.data()),
                                                   static_cast<int>(entry.size()));
        std::string id;
        uint32_t code = 0;
        for (uint32_t t; (t = one.ReadTag()) != 0;) {
            int field = WireFormatLite::GetTagFieldNumber(t);
            bool ok = field == 9    ? WireFormatLite::ReadString(&one, &id)
                      : field == 10 ? one.ReadVarint32(&code)
                                    : WireFormatLite::SkipField(&one, t);
            if (!ok)
                return false;
        }
        if (visit(id, static_cast<int>(code), entry))
            return true;
    }
    return true;
}

// Which regions have which calling code, as the library builds its own maps from the same
// metadata (PhoneNumberUtil's constructor: every entry but "ZZ"; "001" = non-geographic).
// Built once, read-only afterwards: answering these from it spares a run the library's
// initialisation (about 4 MB) when no number needs the library itself.
struct Directory {
    bool ok = false;
    unsigned char known[1000] = {};  // the code is a calling code (ExtractCountryCode)
    unsigned short count[1000] = {}; // ids with that code ("001" included)
    std::vector<std::pair<std::string, int>> regions; // two-letter id -> code
};

const Directory &directory()
{
    static const Directory d = [] {
        Directory t;
        t.ok = scan_metadata([&t](const std::string &id, int code, const std::string &) {
            if (id == "ZZ" || code <= 0 || code >= 1000)
                return false;
            t.known[code] = 1;
            t.count[code]++;
            if (id.size() == 2)
                t.regions.emplace_back(id, code);
            return false;
        });
        return t;
    }();
    return d;
}

// The metadata of region (with calling_code); only that entry is parsed (parsing all ~250
// would cost about 5 ms a call).
bool find_metadata(const std::string &region, int calling_code, PhoneMetadata *out)
{
    bool found = false;
    return scan_metadata([&](const std::string &id, int code, const std::string &entry) {
               if (id != region || code != calling_code)
                   return false;
               found = out->ParseFromString(entry);
               return true;
           }) &&
           found;
}

} // namespace

extern "C" ps_phonelib_verdict ps_phonelib_parse(const char *number, size_t len, const char *region,
                                                 char *e164, size_t cap, int *calling_code)
{
    if (calling_code)
        *calling_code = 0;
    if (e164 && cap)
        e164[0] = '\0';
    if (!number)
        return PS_PHONELIB_NOT_A_NUMBER;
    try {
        const PhoneNumberUtil &u = util();
        PhoneNumber n;
        PhoneNumberUtil::ErrorType e =
            u.Parse(std::string(number, len), std::string(region && *region ? region : "ZZ"), &n);
        if (e != PhoneNumberUtil::NO_PARSING_ERROR)
            return from_parse_error(e);
        if (calling_code)
            *calling_code = n.country_code();
        if (!u.IsValidNumber(n))
            return from_possible(u.IsPossibleNumberWithReason(n));
        std::string out;
        u.Format(n, PhoneNumberUtil::E164, &out);
        return copy_out(out, e164, cap) ? PS_PHONELIB_VALID : PS_PHONELIB_FAILED;
    } catch (...) {
        return PS_PHONELIB_FAILED;
    }
}

extern "C" int ps_phonelib_calling_code(const char *region)
{
    if (!region)
        return 0;
    try {
        const Directory &d = directory();
        if (!d.ok)
            return util().GetCountryCodeForRegion(std::string(region));
        for (const auto &r : d.regions)
            if (r.first == region)
                return r.second;
        return 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int ps_phonelib_main_region(int calling_code, char region[3])
{
    region[0] = '\0';
    try {
        const Directory &d = directory();
        if (d.ok && calling_code > 0 && calling_code < 1000 && d.count[calling_code] <= 1) {
            // one region (or none): no need for the library's ordering
            for (const auto &r : d.regions)
                if (r.second == calling_code)
                    return copy_out(r.first, region, 3) ? 1 : 0;
            return 0;
        }
        std::list<std::string> all;
        util().GetRegionCodesForCountryCallingCode(calling_code, &all);
        // Non-geographic codes (800, 882, ...) belong to the pseudo-region "001".
        if (all.empty() || all.front().size() != 2 || all.front() == "ZZ" ||
            !copy_out(all.front(), region, 3))
            return 0;
        return static_cast<int>(all.size());
    } catch (...) {
        region[0] = '\0';
        return 0;
    }
}

extern "C" int ps_phonelib_example(const char *region, char *out, size_t cap)
{
    if (out && cap)
        out[0] = '\0';
    if (!region)
        return 0;
    try {
        const PhoneNumberUtil &u = util();
        PhoneNumber n;
        if (!u.GetExampleNumberForType(std::string(region), PhoneNumberUtil::MOBILE, &n))
            return 0;
        std::string s;
        u.Format(n, PhoneNumberUtil::INTERNATIONAL, &s);
        return copy_out(s, out, cap) ? 1 : 0;
    } catch (...) {
        if (out && cap)
            out[0] = '\0';
        return 0;
    }
}

extern "C" int ps_phonelib_is_calling_code(int code)
{
    try {
        const Directory &d = directory();
        if (d.ok)
            return code > 0 && code < 1000 && d.known[code];
        std::string r;
        util().GetRegionCodeForCountryCode(code, &r);
        return r != "ZZ";
    } catch (...) {
        return 0;
    }
}

namespace
{

char *dup(const std::string &s)
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p) {
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

unsigned length_bits(const google::protobuf::RepeatedField<int32_t> &l)
{
    unsigned bits = 0;
    for (int32_t v : l)
        if (v >= 1 && v <= 31)
            bits |= 1u << v;
    return bits;
}

bool fill_desc(const PhoneNumberDesc &d, ps_phonelib_desc *out)
{
    out->pattern = dup(d.national_number_pattern());
    out->nlengths = d.possible_length_size();
    out->lengths = length_bits(d.possible_length());
    out->local_lengths = length_bits(d.possible_length_local_only());
    return out->pattern != nullptr;
}

} // namespace

extern "C" void ps_phonelib_plan_free(ps_phonelib_plan *plan)
{
    if (!plan)
        return;
    std::free(plan->international_prefix);
    std::free(plan->national_prefix_for_parsing);
    for (ps_phonelib_desc &d : plan->desc)
        std::free(d.pattern);
    std::memset(plan, 0, sizeof *plan);
}

extern "C" int ps_phonelib_plan_get(int calling_code, ps_phonelib_plan *plan)
{
    std::memset(plan, 0, sizeof *plan);
    try {
        const Directory &dir = directory();
        const std::string *region = nullptr;
        if (!dir.ok || calling_code <= 0 || calling_code >= 1000 || dir.count[calling_code] != 1)
            return -1; // unknown or shared by several regions
        for (const auto &r : dir.regions)
            if (r.second == calling_code)
                region = &r.first;
        PhoneMetadata m;
        if (!region || !find_metadata(*region, calling_code, &m))
            return -1; // non-geographic ("001")
        plan->calling_code = calling_code;
        std::memcpy(plan->region, m.id().data(), 2);
        plan->international_prefix = dup(m.international_prefix());
        plan->national_prefix_for_parsing = dup(m.national_prefix_for_parsing());
        plan->has_transform_rule = !m.national_prefix_transform_rule().empty();
        plan->same_mobile_and_fixed_line = m.same_mobile_and_fixed_line_pattern();
        const PhoneNumberDesc *d[PS_PHONELIB_DESCS] = {
            &m.general_desc(), &m.premium_rate(),    &m.toll_free(), &m.shared_cost(),
            &m.voip(),         &m.personal_number(), &m.pager(),     &m.uan(),
            &m.voicemail(),    &m.fixed_line(),      &m.mobile()};
        bool ok = plan->international_prefix && plan->national_prefix_for_parsing;
        for (int i = 0; i < PS_PHONELIB_DESCS; i++)
            ok = fill_desc(*d[i], &plan->desc[i]) && ok;
        if (!ok) {
            ps_phonelib_plan_free(plan);
            return -1;
        }
        return 0;
    } catch (...) {
        ps_phonelib_plan_free(plan);
        return -1;
    }
}
