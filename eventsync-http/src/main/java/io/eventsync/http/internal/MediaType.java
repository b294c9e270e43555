package io.eventsync.http.internal;

/** The two representations the server speaks, chosen from the request's Accept header. */
public enum MediaType {
    PROTOBUF("application/x-protobuf"),
    JSON("application/json");

    private final String contentType;

    MediaType(String contentType) {
        this.contentType = contentType;
    }

    public String contentType() {
        return contentType;
    }

    /**
     * Picks the representation the client prefers (highest q; on a tie the first listed). No Accept
     * header or a wildcard means JSON, so that curl and browsers get something readable; programs
     * that want the compact form ask for application/x-protobuf.
     *
     * @throws HttpProblem 406 when the client accepts neither
     */
    public static MediaType negotiate(String accept) {
        if (accept == null || accept.isBlank()) {
            return JSON;
        }
        MediaType best = null;
        double bestQ = 0;
        for (String part : accept.split(",")) {
            String[] params = part.trim().split(";");
            String type = params[0].trim().toLowerCase(java.util.Locale.ROOT);
            double q = quality(params);
            MediaType candidate = switch (type) {
                case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf" -> PROTOBUF;
                case "application/json", "application/*", "*/*" -> JSON;
                default -> null;
            };
            if (candidate != null && q > bestQ) {
                best = candidate;
                bestQ = q;
            }
        }
        if (best == null) {
            throw new HttpProblem(406, "Accept '" + accept + "' names no representation this feed serves:"
                    + " use application/x-protobuf or application/json");
        }
        return best;
    }

    private static double quality(String[] params) {
        for (int i = 1; i < params.length; i++) {
            String p = params[i].trim();
            if (p.startsWith("q=")) {
                try {
                    return Double.parseDouble(p.substring(2));
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 1;
    }
}
