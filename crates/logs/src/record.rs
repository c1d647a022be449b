//! The two record formats, one line each, tab-separated as CloudFront writes them.
//!
//! Streaming (RTMP) distributions: 17 fields, one record per playback event. Web
//! distributions: 33 fields, one record per request. Sources: Amazon CloudFront Developer
//! Guide, "Configuring and using standard logs (access logs)" (AccessLogs.md: the web fields,
//! and before 2021 the "RTMP Distribution Log File Format" section with the streaming fields
//! and a sample), https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/AccessLogs.html

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::escape::field;

/// Which format a distribution's files have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogKind {
    Streaming,
    Web,
}

impl LogKind {
    /// The `#Fields:` header line's names.
    pub fn fields(self) -> &'static str {
        match self {
            LogKind::Streaming => STREAMING_FIELDS,
            LogKind::Web => WEB_FIELDS,
        }
    }

    /// The two header lines every file starts with.
    pub fn header(self) -> String {
        format!("#Version: 1.0\n#Fields: {}\n", self.fields())
    }
}

pub const STREAMING_FIELDS: &str = "date time x-edge-location c-ip x-event sc-bytes x-cf-status x-cf-client-id \
     cs-uri-stem cs-uri-query c-referrer x-page-url c-user-agent x-sname x-sname-query x-file-ext x-sid";

pub const WEB_FIELDS: &str = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status \
     cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header \
     cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type \
     cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type \
     sc-content-type sc-content-len sc-range-start sc-range-end";

/// `x-event` of a streaming record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamingEvent {
    Connect,
    Play,
    Pause,
    Unpause,
    Seek,
    Stop,
    Disconnect,
}

impl StreamingEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamingEvent::Connect => "connect",
            StreamingEvent::Play => "play",
            StreamingEvent::Pause => "pause",
            StreamingEvent::Unpause => "unpause",
            StreamingEvent::Seek => "seek",
            StreamingEvent::Stop => "stop",
            StreamingEvent::Disconnect => "disconnect",
        }
    }
}

/// What a connection sent in its `connect`, the same in every record of the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectFields {
    /// `x-cf-client-id`: opaque, unique per connection.
    pub client_id: String,
    /// `cs-uri-stem`: the `tcUrl` without its query, e.g. `rtmp://s5c39gqb8ow64r.cloudfront.net/cfx/st`.
    pub uri_stem: Option<String>,
    /// `cs-uri-query`: the `tcUrl`'s query, without `?`.
    pub uri_query: Option<String>,
    /// `c-referrer`: the connect's `swfUrl`.
    pub referrer: Option<String>,
    /// `x-page-url`: the connect's `pageUrl`.
    pub page_url: Option<String>,
    /// `c-user-agent`: the connect's `flashVer`, e.g. `LNX 10,0,32,18`.
    pub user_agent: Option<String>,
}

impl ConnectFields {
    /// The fields of a connect to `tc_url` (its query split off, without `?`).
    pub fn new(
        client_id: String,
        tc_url: Option<&str>,
        swf_url: Option<&str>,
        page_url: Option<&str>,
        flash_ver: Option<&str>,
    ) -> Self {
        let (uri_stem, uri_query) = match tc_url.map(|url| url.split_once('?').unwrap_or((url, ""))) {
            Some((stem, query)) => (Some(stem.to_owned()), Some(query.to_owned()).filter(|q| !q.is_empty())),
            None => (None, None),
        };
        ConnectFields {
            client_id,
            uri_stem,
            uri_query,
            referrer: swf_url.map(str::to_owned),
            page_url: page_url.map(str::to_owned),
            user_agent: flash_ver.map(str::to_owned),
        }
    }
}

/// The stream an event is about (not for `connect` and `disconnect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFields {
    /// `x-sname`: the stream name without its `mp4:`-style prefix, extension and query.
    pub name: String,
    /// `x-sname-query`: the stream name's query, without `?`.
    pub query: Option<String>,
    /// `x-file-ext`: `flv`, `mp4`, `mp3`…
    pub file_ext: Option<String>,
    /// `x-sid`: the RTMP message stream id.
    pub stream_id: u32,
}

impl StreamFields {
    /// The fields of a play of `stream_name` as the player sent it (`mp4:dir/clip.mp4?a=b`),
    /// `file_ext` being the type it plays as when neither a prefix nor an extension says.
    pub fn from_stream_name(stream_name: &str, stream_id: u32, file_ext: &str) -> Self {
        let (name, query) = stream_name.split_once('?').unwrap_or((stream_name, ""));
        let (name, prefix_ext) = match name.split_once(':') {
            Some((prefix, rest)) if !prefix.is_empty() && prefix.len() <= 4 && !prefix.contains('/') => {
                (rest, Some(prefix.to_ascii_lowercase()))
            }
            _ => (name, None),
        };
        let (name, ext) = match name.rsplit_once('.') {
            Some((base, ext)) if !base.is_empty() && !ext.is_empty() && ext.len() <= 4 && !ext.contains('/') => {
                (base, Some(ext.to_ascii_lowercase()))
            }
            _ => (name, None),
        };
        StreamFields {
            name: name.to_owned(),
            query: Some(query.to_owned()).filter(|q| !q.is_empty()),
            file_ext: Some(ext.or(prefix_ext).unwrap_or_else(|| file_ext.to_owned())),
            stream_id,
        }
    }
}

/// One playback event of a streaming distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamingRecord {
    pub client_ip: IpAddr,
    pub event: StreamingEvent,
    /// `sc-bytes`: every byte sent to the client on this connection so far.
    pub sc_bytes: u64,
    pub connect: ConnectFields,
    pub stream: Option<StreamFields>,
}

/// One request to a web distribution (a field left `None` is written `-`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebRecord {
    /// `sc-bytes`: bytes sent to the viewer, headers included.
    pub sc_bytes: u64,
    /// `c-ip` and `c-port`.
    pub client: Option<SocketAddr>,
    pub method: String,
    /// `cs(Host)`: the distribution's domain name.
    pub host: String,
    pub uri_stem: String,
    /// `sc-status`; 0 (written `000`) when the viewer left before the response started.
    pub status: u16,
    pub referer: Option<String>,
    pub user_agent: Option<String>,
    pub uri_query: Option<String>,
    /// `cs(Cookie)`: written only for distributions whose logging includes cookies.
    pub cookie: Option<String>,
    /// `x-edge-result-type`: `Hit`, `RefreshHit`, `Miss`, `LimitExceeded`, `CapacityExceeded`,
    /// `Error` or `Redirect`.
    pub result_type: String,
    /// `x-edge-request-id`, the same as the response's `x-amz-cf-id`.
    pub request_id: String,
    /// `x-host-header`: the `Host` the viewer sent.
    pub host_header: Option<String>,
    /// `cs-protocol`: `http`, `https`, `ws` or `wss`.
    pub protocol: String,
    /// `cs-bytes`: request bytes, headers included.
    pub cs_bytes: u64,
    /// `time-taken`: from the request's receipt to the last byte queued.
    pub time_taken: Duration,
    pub forwarded_for: Option<String>,
    pub ssl_protocol: Option<String>,
    pub ssl_cipher: Option<String>,
    pub response_result_type: String,
    /// `cs-protocol-version`: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2.0`…
    pub protocol_version: String,
    pub time_to_first_byte: Duration,
    pub detailed_result_type: String,
    pub content_type: Option<String>,
    pub content_len: Option<u64>,
    /// `sc-range-start` and `sc-range-end`, from the response's `Content-Range`.
    pub range: Option<(u64, u64)>,
}

/// A record of either kind (boxed: both are a few hundred bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Streaming(Box<StreamingRecord>),
    Web(Box<WebRecord>),
}

impl From<StreamingRecord> for Record {
    fn from(record: StreamingRecord) -> Self {
        Record::Streaming(Box::new(record))
    }
}

impl From<WebRecord> for Record {
    fn from(record: WebRecord) -> Self {
        Record::Web(Box::new(record))
    }
}

impl Record {
    pub fn kind(&self) -> LogKind {
        match self {
            Record::Streaming(_) => LogKind::Streaming,
            Record::Web(_) => LogKind::Web,
        }
    }

    /// The record's line (with its `\n`) at `at`, from the edge `edge_location`; cookies only
    /// when `include_cookies`.
    pub fn line(&self, at: SystemTime, edge_location: &str, include_cookies: bool) -> String {
        let (date, time) = date_and_time(at);
        let mut fields: Vec<String> = vec![date, time, field(Some(edge_location))];
        match self {
            Record::Streaming(r) => {
                let stream = r.stream.as_ref();
                let c = &r.connect;
                fields.extend([
                    r.client_ip.to_string(),
                    r.event.as_str().to_owned(),
                    r.sc_bytes.to_string(),
                    // "Currently, the value of this field is always OK."
                    "OK".to_owned(),
                    field(Some(&c.client_id)),
                    field(c.uri_stem.as_deref()),
                    field(c.uri_query.as_deref()),
                    field(c.referrer.as_deref()),
                    field(c.page_url.as_deref()),
                    field(c.user_agent.as_deref()),
                    field(stream.map(|s| s.name.as_str())),
                    field(stream.and_then(|s| s.query.as_deref())),
                    field(stream.and_then(|s| s.file_ext.as_deref())),
                    stream.map_or_else(|| "-".to_owned(), |s| s.stream_id.to_string()),
                ]);
            }
            Record::Web(r) => {
                let optional = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
                fields.extend([
                    r.sc_bytes.to_string(),
                    r.client.map_or_else(|| "-".to_owned(), |c| c.ip().to_string()),
                    field(Some(&r.method)),
                    field(Some(&r.host)),
                    field(Some(&r.uri_stem)),
                    format!("{:03}", r.status),
                    field(r.referer.as_deref()),
                    field(r.user_agent.as_deref()),
                    field(r.uri_query.as_deref()),
                    field(r.cookie.as_deref().filter(|_| include_cookies)),
                    field(Some(&r.result_type)),
                    field(Some(&r.request_id)),
                    field(r.host_header.as_deref()),
                    field(Some(&r.protocol)),
                    r.cs_bytes.to_string(),
                    seconds(r.time_taken),
                    field(r.forwarded_for.as_deref()),
                    field(r.ssl_protocol.as_deref()),
                    field(r.ssl_cipher.as_deref()),
                    field(Some(&r.response_result_type)),
                    field(Some(&r.protocol_version)),
                    // Field-level encryption: not offered.
                    "-".to_owned(),
                    "-".to_owned(),
                    r.client.map_or_else(|| "-".to_owned(), |c| c.port().to_string()),
                    seconds(r.time_to_first_byte),
                    field(Some(&r.detailed_result_type)),
                    field(r.content_type.as_deref()),
                    optional(r.content_len),
                    optional(r.range.map(|(start, _)| start)),
                    optional(r.range.map(|(_, end)| end)),
                ]);
            }
        }
        let mut line = fields.join("\t");
        line.push('\n');
        line
    }
}

/// Seconds with three decimals, as `time-taken` is written (`0.082`).
fn seconds(duration: Duration) -> String {
    format!("{}.{:03}", duration.as_secs(), duration.subsec_millis())
}

/// `YYYY-MM-DD` and `HH:MM:SS`, UTC.
pub fn date_and_time(at: SystemTime) -> (String, String) {
    let iso = iso8601(at);
    (iso[..10].to_owned(), iso[11..19].to_owned())
}

/// `YYYY-MM-DD-HH` (UTC): the hour in a log file's name.
pub fn hour_label(at: SystemTime) -> String {
    let iso = iso8601(at);
    format!("{}-{}", &iso[..10], &iso[11..13])
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`; times before 1970 are taken as 1970.
fn iso8601(at: SystemTime) -> String {
    let millis = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    sf_dist::Timestamp(u64::try_from(millis).unwrap_or(u64::MAX / 2)).to_iso8601()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2010-03-12 23:51:20 UTC, the time of AWS's sample's first record.
    fn sample_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_268_437_880)
    }

    fn sample_connect() -> ConnectFields {
        ConnectFields::new(
            "bfd8a98bee0840d9b871b7f6ade9908f".into(),
            Some("rtmp://shqshne4jdp4b6.cloudfront.net/cfx/st?key=value"),
            Some("http://player.example.com/player.swf"),
            Some("http://www.example.com/support/jw-player-setup-wizard?example=204"),
            Some("LNX 10,0,32,18"),
        )
    }

    #[test]
    fn streaming_records_are_written_as_in_awss_sample() {
        let connect = Record::from(StreamingRecord {
            client_ip: "192.0.2.147".parse().unwrap(),
            event: StreamingEvent::Connect,
            sc_bytes: 2014,
            connect: sample_connect(),
            stream: None,
        });
        assert_eq!(
            connect.line(sample_time(), "SEA4", false),
            "2010-03-12\t23:51:20\tSEA4\t192.0.2.147\tconnect\t2014\tOK\tbfd8a98bee0840d9b871b7f6ade9908f\t\
             rtmp://shqshne4jdp4b6.cloudfront.net/cfx/st\tkey=value\thttp://player.example.com/player.swf\t\
             http://www.example.com/support/jw-player-setup-wizard?example=204\tLNX%2010,0,32,18\t-\t-\t-\t-\n"
        );
        let play = Record::from(StreamingRecord {
            client_ip: "192.0.2.103".parse().unwrap(),
            event: StreamingEvent::Play,
            sc_bytes: 8_783_724,
            connect: sample_connect(),
            stream: Some(StreamFields::from_stream_name("mp4:dir/favs/myothervideo?p=42&q=14", 2, "flv")),
        });
        let line = play.line(sample_time() + Duration::from_secs(144), "SEA4", false);
        assert!(line.starts_with("2010-03-12\t23:53:44\tSEA4\t192.0.2.103\tplay\t8783724\tOK\t"), "{line}");
        assert!(line.ends_with("\tLNX%2010,0,32,18\tdir/favs/myothervideo\tp=42&q=14\tmp4\t2\n"), "{line}");
        assert_eq!(line.split('\t').count(), 17);
    }

    #[test]
    fn stream_names_lose_prefix_extension_and_query() {
        let fields = |name: &str| {
            let s = StreamFields::from_stream_name(name, 1, "flv");
            (s.name, s.query, s.file_ext.unwrap())
        };
        assert_eq!(fields("myvideo"), ("myvideo".into(), None, "flv".into()));
        assert_eq!(
            fields("dir/other/myvideo?p=2&q=4"),
            ("dir/other/myvideo".into(), Some("p=2&q=4".into()), "flv".into())
        );
        assert_eq!(fields("mp4:clip.mp4"), ("clip".into(), None, "mp4".into()));
        assert_eq!(fields("MP3:song"), ("song".into(), None, "mp3".into()));
        assert_eq!(fields("mp4:a/b.m4v"), ("a/b".into(), None, "m4v".into()));
        assert_eq!(fields("dir.v2/clip"), ("dir.v2/clip".into(), None, "flv".into()));
    }

    #[test]
    fn web_records_have_33_fields_in_order() {
        let record = Record::from(WebRecord {
            sc_bytes: 2390,
            client: Some("192.0.2.100:53642".parse().unwrap()),
            method: "GET".into(),
            host: "d111111abcdef8.cloudfront.net".into(),
            uri_stem: "/index.html".into(),
            status: 200,
            user_agent: Some("Mozilla/5.0 (X11)".into()),
            cookie: Some("a=b".into()),
            result_type: "Hit".into(),
            request_id: "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==".into(),
            host_header: Some("d111111abcdef8.cloudfront.net".into()),
            protocol: "https".into(),
            cs_bytes: 23,
            time_taken: Duration::from_millis(1),
            ssl_protocol: Some("TLSv1.3".into()),
            ssl_cipher: Some("TLS_AES_128_GCM_SHA256".into()),
            response_result_type: "Hit".into(),
            protocol_version: "HTTP/2.0".into(),
            time_to_first_byte: Duration::from_micros(500),
            detailed_result_type: "Hit".into(),
            content_type: Some("text/html".into()),
            content_len: Some(78),
            ..WebRecord::default()
        });
        let line = record.line(UNIX_EPOCH + Duration::from_secs(1_576_040_885), "SFO53-P7", false);
        // The first record of the web sample in AWS's AccessLogs page, our own request id aside.
        assert_eq!(
            line,
            "2019-12-11\t05:08:05\tSFO53-P7\t2390\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t\
             -\tMozilla/5.0%20(X11)\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\t\
             d111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tHit\tHTTP/2.0\t-\t-\t\
             53642\t0.000\tHit\ttext/html\t78\t-\t-\n"
        );
        assert_eq!(line.trim_end().split('\t').count(), WEB_FIELDS.split(' ').count());
        assert_eq!(WEB_FIELDS.split(' ').count(), 33);
        assert!(record.line(UNIX_EPOCH, "X", true).contains("\ta=b\t"), "cookies when asked for");
    }

    #[test]
    fn headers_and_hours() {
        assert_eq!(
            LogKind::Streaming.header(),
            "#Version: 1.0\n#Fields: date time x-edge-location c-ip x-event sc-bytes x-cf-status x-cf-client-id \
             cs-uri-stem cs-uri-query c-referrer x-page-url c-user-agent x-sname x-sname-query x-file-ext x-sid\n"
        );
        assert_eq!(STREAMING_FIELDS.split(' ').count(), 17);
        assert_eq!(hour_label(sample_time()), "2010-03-12-23");
    }
}
