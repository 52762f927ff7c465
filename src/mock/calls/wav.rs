//! The check sipgate's announcements need: a WAV file, PCM, 16 bit, mono, 8 kHz. sipgate plays nothing
//! (silently) for anything else; the stand-in says so.

/// What a sound file is, as far as the check needs it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sound {
    /// WAVE format tag (1 = PCM).
    pub format: u16,
    /// Channels.
    pub channels: u16,
    /// Samples per second.
    pub rate: u32,
    /// Bits per sample.
    pub bits: u16,
    /// Length in seconds, from the data chunk.
    pub seconds: f64,
}

impl Sound {
    /// Why sipgate would not play it, if it would not.
    pub fn problem(&self) -> Option<String> {
        let mut wrong = Vec::new();
        if self.format != 1 {
            wrong.push(format!("format {} instead of PCM (1)", self.format));
        }
        if self.bits != 16 {
            wrong.push(format!("{} bit instead of 16", self.bits));
        }
        if self.channels != 1 {
            wrong.push(format!("{} channels instead of mono", self.channels));
        }
        if self.rate != 8000 {
            wrong.push(format!("{} Hz instead of 8000", self.rate));
        }
        (!wrong.is_empty()).then(|| wrong.join(", "))
    }
}

/// The largest sound file fetched for the check.
const MAX_SOUND: u64 = 32 * 1024 * 1024;

/// Fetches a sound and checks it: its length in seconds, or why sipgate would not play it.
pub(crate) fn fetch(agent: &ureq::Agent, url: &str) -> Result<f64, String> {
    let mut answer = agent.get(url).call().map_err(|error| error.to_string())?;
    let status = answer.status().as_u16();
    let bytes = answer.body_mut().with_config().limit(MAX_SOUND).read_to_vec().map_err(|e| e.to_string())?;
    if !(200..300).contains(&status) {
        return Err(format!("HTTP status {status}"));
    }
    let sound = read(&bytes)?;
    match sound.problem() {
        None => Ok(sound.seconds),
        Some(problem) => Err(problem),
    }
}

/// Reads the RIFF header of a WAV file.
pub(crate) fn read(bytes: &[u8]) -> Result<Sound, String> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a WAV file (no RIFF/WAVE header)".to_owned());
    }
    let mut at = 12;
    let mut format = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let body = at + 8;
        if id == b"fmt " {
            let chunk = bytes.get(body..body.saturating_add(16)).ok_or("the fmt chunk is cut short")?;
            let u16_at = |i: usize| u16::from_le_bytes([chunk[i], chunk[i + 1]]);
            let rate = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            format = Some((u16_at(0), u16_at(2), rate, u16_at(14)));
        } else if id == b"data" {
            let (format, channels, rate, bits) = format.ok_or("the data chunk comes before the fmt chunk")?;
            let bytes_per_second = f64::from(rate) * f64::from(channels) * f64::from(bits) / 8.0;
            let length = size.min(bytes.len() - body) as f64;
            let seconds = if bytes_per_second > 0.0 { length / bytes_per_second } else { 0.0 };
            return Ok(Sound { format, channels, rate, bits, seconds });
        }
        at = body.saturating_add(size).saturating_add(size % 2);
    }
    Err("no data chunk in the WAV file".to_owned())
}

/// A WAV file of `samples` silent samples in the given shape, for tests and examples.
pub(crate) fn silence(rate: u32, channels: u16, bits: u16, samples: u32) -> Vec<u8> {
    let block = u32::from(channels) * u32::from(bits) / 8;
    let data = samples * block;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * block).to_le_bytes());
    out.extend_from_slice(&u16::try_from(block).unwrap_or(u16::MAX).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    out.resize(44 + data as usize, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_shape_passes_and_others_say_what_is_wrong() {
        let good = read(&silence(8000, 1, 16, 8000)).unwrap();
        assert_eq!(good.problem(), None);
        assert!((good.seconds - 1.0).abs() < 1e-9);
        let cd = read(&silence(44_100, 2, 16, 100)).unwrap();
        assert_eq!(cd.problem().unwrap(), "2 channels instead of mono, 44100 Hz instead of 8000");
        assert!(read(b"ID3\x03mp3 data here").unwrap_err().contains("not a WAV"));
        let cut = silence(8000, 1, 16, 10);
        for end in 0..cut.len() {
            let _ = read(&cut[..end]);
        }
    }
}
