// paysync core: libphonenumber behind a C interface (see phonelib.h). Every entry point
// catches all exceptions; nothing here is mutable state of paysync's.
#include "model/phonelib.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstring>
#include <list>
#include <string>

using i18n::phonenumbers::PhoneNumber;
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
        return util().GetCountryCodeForRegion(std::string(region));
    } catch (...) {
        return 0;
    }
}

extern "C" int ps_phonelib_main_region(int calling_code, char region[3])
{
    region[0] = '\0';
    try {
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
