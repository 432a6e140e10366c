"""The default model, rebuilt offline from the two PyPI packages."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from hybridcore.model import e5small
from hybridcore.model.encoder import Encoder
from hybridcore.model.resolve import resolve_model


def test_dequantize_one_block():
    # scale 0.5; byte j: low nibble weight j, high nibble weight j+16
    packed = bytes((j % 16) | (((15 - j) % 16) << 4) for j in range(16))
    raw = np.float16(0.5).tobytes() + packed
    values = e5small.dequantize_q4(raw, 32)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [((15 - j) - 8) * 0.5 for j in range(16)]


def test_dequantize_rejects_wrong_length():
    with pytest.raises(e5small.ModelFormatError, match="expected 36 bytes"):
        e5small.dequantize_q4(b"\0" * 18, 64)


def test_bad_magic_is_reported(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"NOPE" + struct.pack("<I", 1))
    with pytest.raises(e5small.ModelFormatError, match="bad magic"):
        e5small.read_container(path)


@pytest.mark.real
def test_built_folder_is_a_standard_hf_model(e5_path):
    config = json.loads((e5_path / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (384, 12, 250037)
    assert (e5_path / "model.safetensors").is_file() and not list(e5_path.glob("*.bin"))
    assert resolve_model("e5-small") == str(e5_path)


@pytest.mark.real
def test_translations_are_nearest_to_their_originals(real_encoder):
    english = [
        "The cat is sleeping on the warm windowsill.",
        "The stock market fell sharply on Monday.",
        "She plays the violin in an orchestra.",
        "Heavy rain flooded the village streets.",
    ]
    translations = {
        "de": [
            "Die Katze schläft auf der warmen Fensterbank.",
            "Der Aktienmarkt fiel am Montag stark.",
            "Sie spielt Geige in einem Orchester.",
            "Starker Regen überflutete die Straßen des Dorfes.",
        ],
        "ru": [
            "Кошка спит на тёплом подоконнике.",
            "Фондовый рынок резко упал в понедельник.",
            "Она играет на скрипке в оркестре.",
            "Сильный дождь затопил улицы деревни.",
        ],
        "th": [
            "แมวกำลังนอนหลับอยู่บนขอบหน้าต่างที่อบอุ่น",
            "ตลาดหุ้นร่วงลงอย่างหนักในวันจันทร์",
            "เธอเล่นไวโอลินในวงออร์เคสตรา",
            "ฝนตกหนักทำให้ถนนในหมู่บ้านน้ำท่วม",
        ],
        "zh": ["猫在温暖的窗台上睡觉。", "股市周一大幅下跌。", "她在管弦乐队里拉小提琴。", "大雨淹没了村里的街道。"],
    }
    source = real_encoder.encode_queries(english)
    for lang, sentences in translations.items():
        sims = real_encoder.encode_queries(sentences) @ source.T
        assert (sims.argmax(1) == np.arange(len(english))).all(), lang
        assert np.diag(sims).min() > 0.8, lang
        assert (np.diag(sims) - np.sort(sims, 1)[:, -2]).min() > 0.05, lang


def test_unknown_local_folder_is_rejected(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        Encoder(str(tmp_path))
