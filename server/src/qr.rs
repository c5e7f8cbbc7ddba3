//! QR codes as one SVG path, so a client draws them without a QR encoder of its own
//! (and, as inline SVG, under any Content Security Policy).

use passway_protocol::QrCode;
use qrcode::{Color, EcLevel};

/// `text` as a QR code (error correction M, as authenticator apps expect), dark
/// modules merged into horizontal runs: `M{x} {y}h{run}v1h-{run}z`.
pub fn encode(text: &str) -> QrCode {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .expect("an otpauth URI fits in a QR code");
    let size = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for y in 0..size {
        let row = &colors[y * size..(y + 1) * size];
        let mut x = 0;
        while x < size {
            if row[x] == Color::Dark {
                let start = x;
                while x < size && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                path.push_str(&format!("M{start} {y}h{run}v1h-{run}z"));
            } else {
                x += 1;
            }
        }
    }
    QrCode { size: size as u32, path }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redraws the path onto a grid and compares it with the encoder's modules.
    #[test]
    fn the_path_draws_exactly_the_dark_modules() {
        let text = "otpauth://totp/Acme:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme";
        let qr = encode(text);
        let size = qr.size as usize;
        let mut grid = vec![false; size * size];
        for segment in qr.path.split('M').skip(1) {
            let (x, rest) = segment.split_once(' ').unwrap();
            let (y, rest) = rest.split_once('h').unwrap();
            let run: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            for dx in 0..run {
                assert!(!grid[y * size + x + dx], "drawn twice");
                grid[y * size + x + dx] = true;
            }
        }
        let expected = qrcode::QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        let dark: Vec<bool> = expected.to_colors().iter().map(|c| *c == Color::Dark).collect();
        assert_eq!(grid, dark);
        assert!(size >= 21 && (size - 17).is_multiple_of(4), "a QR version's size: {size}");
    }
}
