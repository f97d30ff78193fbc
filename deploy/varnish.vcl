# Varnish in front of media-origin: it keeps each folder's policy.
#   varnishd -a :6081 -f "$PWD/deploy/varnish.vcl"
# The backend is media-origin as `media-origin serve` starts it (127.0.0.1:8080);
# write your origin's address here, or use a director over several instances
# (README "Scaling out"). The tests run this file with only the port changed.
vcl 4.1;

import std;

backend origin {
    .host = "127.0.0.1";
    .port = "8080";
}

sub vcl_backend_response {
    # RFC 9213: CDN-Cache-Control speaks to this cache; Cache-Control to caches
    # after it and to Meta. The origin sends it only where a folder sets it.
    if (beresp.http.CDN-Cache-Control ~ "max-age=[0-9]+") {
        set beresp.ttl = std.duration(
            regsub(beresp.http.CDN-Cache-Control, "^.*max-age=([0-9]+).*$", "\1") + "s", 0s);
    }
    # Personal files: never kept, never served to someone else.
    if (beresp.http.Cache-Control ~ "(private|no-store)") {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    # no-cache: keep the object, but revalidate it every time with a
    # conditional request (If-None-Match / If-Modified-Since) the origin
    # answers with 304; Varnish's built-in VCL would not keep it at all.
    # (A ttl of exactly 0 s is never inserted, so nothing would be kept to
    # revalidate: one millisecond is the smallest that is.)
    if (beresp.http.Cache-Control ~ "no-cache") {
        set beresp.ttl = 0.001s;
        set beresp.grace = 0s;
        set beresp.keep = 1d;
        return (deliver);
    }
}
