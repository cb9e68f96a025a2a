/*
 * vm_os.c - the sandbox's `os`: time, date, clock, difftime. Nothing else.
 *
 * Why our own: Lua's os.time/os.date read the process clock and the local
 * time zone (through the TZ environment variable and /etc/localtime). A run
 * must be replayable and read no environment, so:
 *   - "now" is asked of the host (a clock.now request, which the journal
 *     records and replays);
 *   - every conversion is UTC, done here with civil-calendar arithmetic
 *     (no mktime, no localtime, no strftime and their hidden tzset);
 *   - os.clock is the process's own CPU time: it measures, it never decides.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vm_int.h"

/* ---- civil calendar (proleptic Gregorian, UTC) ------------------------------------------- */

static long long days_from_civil(long long y, long long m, long long d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct {
    long long year;
    int month, day, hour, min, sec, wday, yday; /* month 1..12, wday 0=Sunday, yday 1..366 */
} civil;

static civil civil_from_seconds(long long t)
{
    civil c;
    long long days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    c.hour = (int)(rem / 3600);
    c.min = (int)(rem % 3600 / 60);
    c.sec = (int)(rem % 60);
    c.wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = y + (c.month <= 2);
    c.yday = (int)(days - days_from_civil(c.year, 1, 1) + 1);
    return c;
}

/* ---- now, from the host ------------------------------------------------------------------------
 */

static long long host_now_seconds(lua_State *L)
{
    cJSON **box = vm_box_json(L);
    (void)box;
    if (!vm_effect_request(L, "clock.now", lua_gettop(L), NULL)) {
        lua_getfield(L, -1, "message");
        return luaL_error(L, "os.time: the host gave no time: %s", lua_tostring(L, -1));
    }
    lua_getfield(L, -1, "epoch_ms");
    if (!lua_isnumber(L, -1)) return luaL_error(L, "os.time: the host's clock.now had no epoch_ms");
    double ms = lua_tonumber(L, -1);
    lua_pop(L, 2);
    long long s = (long long)(ms / 1000.0);
    if (ms < 0 && (double)s * 1000.0 != ms) s--;
    return s;
}

static int get_field(lua_State *L, const char *key, int dflt, int delta)
{
    int t = lua_getfield(L, -1, key);
    lua_Integer v;
    if (t == LUA_TNIL) {
        if (dflt < 0) return luaL_error(L, "os.time: field '%s' missing in date table", key);
        v = dflt;
    } else {
        int isnum;
        v = lua_tointegerx(L, -1, &isnum);
        if (!isnum) return luaL_error(L, "os.time: field '%s' is not an integer", key);
        if (v < -1000000000 || v > 1000000000)
            return luaL_error(L, "os.time: field '%s' is out-of-bound", key);
    }
    lua_pop(L, 1);
    return (int)(v - delta);
}

static int os_time(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, (lua_Integer)host_now_seconds(L));
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    long long year = get_field(L, "year", -1, 0);
    long long month = get_field(L, "month", -1, 0);
    long long day = get_field(L, "day", -1, 0);
    long long hour = get_field(L, "hour", 12, 0);
    long long min = get_field(L, "min", 0, 0);
    long long sec = get_field(L, "sec", 0, 0);
    /* Normalise the month first (like mktime), the rest is plain arithmetic. */
    month -= 1;
    year += month >= 0 ? month / 12 : (month - 11) / 12;
    month = ((month % 12) + 12) % 12 + 1;
    long long t =
        days_from_civil(year, month, 1) * 86400 + (day - 1) * 86400 + hour * 3600 + min * 60 + sec;
    lua_pushinteger(L, (lua_Integer)t);
    return 1;
}

/* ---- os.date (UTC only) -----------------------------------------------------------------------
 */

static const char *const wday_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

static void set_int(lua_State *L, const char *k, long long v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

static void add_conversion(lua_State *L, luaL_Buffer *b, char c, const civil *t, long long secs)
{
    char buf[64];
    switch (c) {
    case 'a':
        snprintf(buf, sizeof buf, "%.3s", wday_names[t->wday]);
        break;
    case 'A':
        snprintf(buf, sizeof buf, "%s", wday_names[t->wday]);
        break;
    case 'b':
    case 'h':
        snprintf(buf, sizeof buf, "%.3s", month_names[t->month - 1]);
        break;
    case 'B':
        snprintf(buf, sizeof buf, "%s", month_names[t->month - 1]);
        break;
    case 'c':
        snprintf(buf, sizeof buf, "%.3s %.3s %2d %02d:%02d:%02d %lld", wday_names[t->wday],
                 month_names[t->month - 1], t->day, t->hour, t->min, t->sec, t->year);
        break;
    case 'C':
        snprintf(buf, sizeof buf, "%02lld", t->year / 100);
        break;
    case 'd':
        snprintf(buf, sizeof buf, "%02d", t->day);
        break;
    case 'D':
    case 'x': /* the C locale's date is %D */
        snprintf(buf, sizeof buf, "%02d/%02d/%02lld", t->month, t->day, t->year % 100);
        break;
    case 'e':
        snprintf(buf, sizeof buf, "%2d", t->day);
        break;
    case 'F':
        snprintf(buf, sizeof buf, "%lld-%02d-%02d", t->year, t->month, t->day);
        break;
    case 'H':
        snprintf(buf, sizeof buf, "%02d", t->hour);
        break;
    case 'I':
        snprintf(buf, sizeof buf, "%02d", t->hour % 12 == 0 ? 12 : t->hour % 12);
        break;
    case 'j':
        snprintf(buf, sizeof buf, "%03d", t->yday);
        break;
    case 'm':
        snprintf(buf, sizeof buf, "%02d", t->month);
        break;
    case 'M':
        snprintf(buf, sizeof buf, "%02d", t->min);
        break;
    case 'n':
        snprintf(buf, sizeof buf, "\n");
        break;
    case 'p':
        snprintf(buf, sizeof buf, "%s", t->hour < 12 ? "AM" : "PM");
        break;
    case 'R':
        snprintf(buf, sizeof buf, "%02d:%02d", t->hour, t->min);
        break;
    case 's':
        snprintf(buf, sizeof buf, "%lld", secs);
        break;
    case 'S':
        snprintf(buf, sizeof buf, "%02d", t->sec);
        break;
    case 't':
        snprintf(buf, sizeof buf, "\t");
        break;
    case 'T':
    case 'X':
        snprintf(buf, sizeof buf, "%02d:%02d:%02d", t->hour, t->min, t->sec);
        break;
    case 'u':
        snprintf(buf, sizeof buf, "%d", t->wday == 0 ? 7 : t->wday);
        break;
    case 'w':
        snprintf(buf, sizeof buf, "%d", t->wday);
        break;
    case 'y':
        snprintf(buf, sizeof buf, "%02lld", t->year % 100);
        break;
    case 'Y':
        snprintf(buf, sizeof buf, "%lld", t->year);
        break;
    case 'z':
        snprintf(buf, sizeof buf, "+0000");
        break;
    case 'Z':
        snprintf(buf, sizeof buf, "UTC");
        break;
    case '%':
        snprintf(buf, sizeof buf, "%%");
        break;
    default:
        luaL_error(L, "os.date: invalid conversion specifier '%%%c'", c);
        return;
    }
    luaL_addstring(b, buf);
}

static int os_date(lua_State *L)
{
    size_t flen;
    const char *fmt = luaL_optlstring(L, 1, "%c", &flen);
    long long secs;
    if (lua_isnoneornil(L, 2)) {
        secs = host_now_seconds(L);
    } else {
        int isnum;
        secs = (long long)lua_tointegerx(L, 2, &isnum);
        if (!isnum) return luaL_argerror(L, 2, "integer time expected");
    }
    const char *end = fmt + flen;
    if (*fmt == '!') fmt++; /* always UTC anyway */
    civil t = civil_from_seconds(secs);
    if (strncmp(fmt, "*t", 2) == 0) {
        lua_createtable(L, 0, 9);
        set_int(L, "year", t.year);
        set_int(L, "month", t.month);
        set_int(L, "day", t.day);
        set_int(L, "hour", t.hour);
        set_int(L, "min", t.min);
        set_int(L, "sec", t.sec);
        set_int(L, "yday", t.yday);
        set_int(L, "wday", t.wday + 1);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "isdst");
        return 1;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    while (fmt < end) {
        if (*fmt != '%') {
            luaL_addchar(&b, *fmt++);
            continue;
        }
        if (++fmt >= end) return luaL_error(L, "os.date: invalid conversion specifier '%%'");
        add_conversion(L, &b, *fmt++, &t, secs);
    }
    luaL_pushresult(&b);
    return 1;
}

static int os_clock(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)clock() / (lua_Number)CLOCKS_PER_SEC);
    return 1;
}

static int os_difftime(lua_State *L)
{
    lua_Number a = luaL_checknumber(L, 1);
    lua_Number b = luaL_optnumber(L, 2, 0);
    lua_pushnumber(L, a - b);
    return 1;
}

int vm_os_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"time", os_time},         {"date", os_date}, {"clock", os_clock},
        {"difftime", os_difftime}, {NULL, NULL},
    };
    luaL_newlib(L, fns);
    return 1;
}
