// placeholder until the encoder plugin lands
