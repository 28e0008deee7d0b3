mod config;
mod error;
mod protocol;

fn main() {
    println!("dynhost");
}
