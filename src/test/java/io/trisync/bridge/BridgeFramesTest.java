package io.trisync.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.failure.Failure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BridgeFramesTest {

    @Test
    @DisplayName("A posted body SockJS would refuse (empty, not JSON) is named; any JSON, and a blank body, are left"
            + " to SockJS, which takes them")
    void framesProblem() {
        assertThat(Bridge.framesProblem("")).startsWith("empty; ");
        assertThat(Bridge.framesProblem("not json")).startsWith("not JSON; ");
        assertThat(Bridge.framesProblem("[\"a\"")).startsWith("not JSON; ");
        for (String taken : new String[] {"[\"{}\"]", "[]", "[1]", "{\"type\":\"ping\"}", "\"a\"", "null", "  "}) {
            assertThat(Bridge.framesProblem(taken)).as(taken).isNull();
        }
    }

    @Test
    @DisplayName("A jsonp_send body is read as SockJS reads it: text/plain as xhr_send's, a form's frames in d= and"
            + " URL-encoded; what SockJS would refuse is 400 naming the body, another Content-Type 415 naming it")
    void jsonpSendProblem() {
        String form = "application/x-www-form-urlencoded";
        for (String refused : new String[] {"", "d=", "x=[]", "d=not%20json", "d=%5B%22a%22", "d=%zz"}) {
            Failure problem = Bridge.sendProblem("jsonp_send", form, refused);
            assertThat(problem).as(refused).isInstanceOf(Failure.BadRequest.class);
            assertThat(problem.getMessage()).as(refused).startsWith("body: ");
        }
        for (String taken : new String[] {"d=%5B%22%7B%7D%22%5D", "d=[\"{}\"]", "d=[1]", "d=+"}) {
            assertThat(Bridge.sendProblem("jsonp_send", form, taken)).as(taken).isNull();
        }
        assertThat(Bridge.sendProblem("jsonp_send", "TEXT/PLAIN", "[\"{}\"]")).isNull();
        assertThat(Bridge.sendProblem("jsonp_send", "text/plain", "not json").getMessage())
                .startsWith("body: not JSON; ");
        assertThat(Bridge.sendProblem("jsonp_send", "text/plain", "").getMessage())
                .startsWith("body: empty; ");
        for (String type : new String[] {null, "application/json", "text/plain; charset=UTF-8"}) {
            Failure problem = Bridge.sendProblem("jsonp_send", type, "[]");
            assertThat(problem).as(type).isInstanceOf(Failure.UnsupportedMediaType.class);
            assertThat(problem.getMessage()).as(type).startsWith("Content-Type: ");
        }
        // xhr_send reads any body as the frames, whatever its type.
        assertThat(Bridge.sendProblem("xhr_send", null, "[]")).isNull();
        assertThat(Bridge.sendProblem("xhr_send", "application/json", "").getMessage())
                .startsWith("body: empty; ");
    }
}
